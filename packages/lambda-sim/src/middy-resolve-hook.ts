/** A module resolve hook that points `@middy/core` at another Middy build (the Middy 7 test leg). */
let middyCoreUrl: string | undefined

export const initialize = (data: string): void => {
  middyCoreUrl = data
}

export const resolve = async (
  specifier: string,
  context: unknown,
  nextResolve: (specifier: string, context: unknown) => Promise<unknown>,
): Promise<unknown> => {
  if (specifier === '@middy/core' && middyCoreUrl) return nextResolve(middyCoreUrl, context)
  return nextResolve(specifier, context)
}
