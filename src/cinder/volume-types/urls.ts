/** Volume type paths, relative to the Cinder endpoint. */
export const volumeTypesUrl = (): string => '/types';
