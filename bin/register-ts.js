// Lets Node run the TypeScript sources as they are: Node strips the types itself (22.18+), and this hook
// resolves the sources' `./x.js` import specifiers (the form tsc wants under NodeNext) to the `./x.ts`
// file beside them, the way tsc does. Import it first (`import './register-ts.js'`), or preload it:
// `node --import ./bin/register-ts.js FILE.ts`.

// The default import, so that an older Node reaches the message below instead of failing to link.
import module from 'node:module';

if (typeof module.registerHooks !== 'function' || !process.features.typescript) {
  console.error(`policylens needs Node 22.18 or later (24 LTS recommended), with type stripping on; this is Node ${process.version}.`);
  process.exit(1);
}

// Stripping the types again on every start would make it slower than it was with tsx: Node's compile cache keeps
// the stripped and compiled modules in the system's temp directory and halves a start (docs/performance.md).
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache();

const RELATIVE_JS = /^\.\.?\/.*\.js$/;

module.registerHooks({
  resolve(specifier, context, nextResolve) {
    if (RELATIVE_JS.test(specifier) && context.parentURL?.endsWith('.ts')) {
      try {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      } catch (err) {
        if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err; // else no .ts source: a real .js file
      }
    }
    return nextResolve(specifier, context);
  },
});
