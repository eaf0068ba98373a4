// The kubelite release, reported in /version's gitCommit and `kubelite version`.
export const KUBELITE_VERSION = '0.1.0';
