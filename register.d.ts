// The register preload has no exports: importing it fills process.env.
export {};
