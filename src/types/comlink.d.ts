// comlink 4.4 ships no "exports" map: Node would load its UMD build. We import the ESM build by
// path; this gives that path the package's own types.
declare module "comlink/dist/esm/comlink.mjs" {
  export * from "comlink";
}
