import { BaseError, ContractFunctionRevertedError } from 'viem'

/** Name and arguments of the custom error a call reverted with (`Error` for a plain reason string). */
export async function revertOf(call: Promise<unknown>): Promise<{ name: string | undefined; args: unknown }> {
  try {
    await call
  } catch (error) {
    const reverted =
      error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null
    if (reverted instanceof ContractFunctionRevertedError) {
      return { name: reverted.data?.errorName, args: reverted.data?.args }
    }
    throw error
  }
  throw new Error('expected the call to revert')
}
