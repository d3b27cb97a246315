export { packageVersion } from '../host/version.ts';
