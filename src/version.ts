/** ua's version (package.json's; a unit test keeps them equal) and the classic agent's it is compatible with. */
export const UA_VERSION = '0.1.0';
/** The classic Upload Agent release whose flags, output and greet ua reproduces. */
export const CLASSIC_VERSION = '1.5.33';
