/** The library's version (kept equal to package.json's by a test). */
export const VERSION = '0.1.0';

export const USER_AGENT = `dataswap/${VERSION} node/${process.versions.node}`;
