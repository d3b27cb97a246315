/**
 * A failed toolstack operation as xl reports it: the message xl prints (its wording, e.g.
 * "foo is an invalid domain identifier (rc=-6)") and the exit status xl exits with (1 for
 * EXIT_FAILURE unless xl uses another). The API carries both to the CLI unchanged.
 */
export class XlError extends Error {
  override name = 'XlError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** libxl's error codes (libxl_types.idl), which xl prints as "rc=N". */
export const ERROR_FAIL = -3;
export const ERROR_INVAL = -6;
export const ERROR_NOPARAVIRT = -8;
export const ERROR_DOMAIN_NOTFOUND = -21;
