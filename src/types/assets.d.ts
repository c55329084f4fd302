// Types for files imported as assets (`with { type: "file" }` gives a path; `type: "text"` gives the content).
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
declare module "*.min.js" {
  const path: string;
  export default path;
}
declare module "*.sh" {
  const text: string;
  export default text;
}
declare module "*.service" {
  const text: string;
  export default text;
}
// Vigil's own browser glue under static/ (theme.js, live.js, charts.js): imported as files, served as they are.
declare module "*.js" {
  const path: string;
  export default path;
}
