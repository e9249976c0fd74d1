import type { Intent } from '@agora/db'
import { type Abi, type CallParameters, decodeErrorResult, type Hex } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { ContractRevertedError } from '../../errors.ts'

/**
 * Why a call reverts, replayed with `eth_call`: a `ContractRevertedError` naming the custom error
 * and its arguments when `errors` knows it, `undefined` when the call succeeds now or its revert
 * data is unknown (the generic failure stands then).
 *
 * @example
 * const why = await explainRevert(client, intent, { account, to, data }, launchErrors)
 */
export async function explainRevert(
  client: RuntimeClient,
  intent: Intent,
  call: Pick<CallParameters, 'account' | 'to' | 'data' | 'value'>,
  errors: Abi,
): Promise<ContractRevertedError | undefined> {
  try {
    await client.chain.publicClient.call(call)
    return undefined
  } catch (error) {
    const data = (error as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk?.(
      (e) => typeof (e as { data?: unknown }).data === 'string',
    ) as { data?: Hex } | undefined
    if (!data?.data) return undefined
    try {
      const decoded = decodeErrorResult({ abi: errors, data: data.data })
      const args = (decoded.args ?? []).map(String)
      return new ContractRevertedError(intent.kind, { name: decoded.errorName, args }, { cause: error })
    } catch {
      return undefined
    }
  }
}
