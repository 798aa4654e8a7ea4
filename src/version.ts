/** runts' own version, printed by `runts --version`. */
export const RUNTS_VERSION = "0.1.0";

/** The OCI runtime-spec version runts implements (and writes as `ociVersion`). */
export const OCI_SPEC_VERSION = "1.3.0";
