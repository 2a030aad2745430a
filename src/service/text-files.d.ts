// Packaging files imported as text (Bun's `with { type: "text" }`), so the
// compiled binary carries exactly the files that ship in packaging/.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.conf" {
  const text: string;
  export default text;
}
declare module "*.plist" {
  const text: string;
  export default text;
}
declare module "*.sh" {
  const text: string;
  export default text;
}
