// Module hooks for a child process that runs the TypeScript sources themselves (node
// --experimental-transform-types): a relative `./x.js` import falls back to `./x.ts`, as tsc resolves it.
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (specifier.startsWith('.') && specifier.endsWith('.js'))
      return next(`${specifier.slice(0, -3)}.ts`, context);
    throw e;
  }
}
