import { safeAbi } from '@agora/contracts'
import {
  type Address,
  encodeFunctionData,
  type Hex,
  type LocalAccount,
  type PublicClient,
  zeroAddress,
} from 'viem'
import type { Call } from '../outbox/intent-handler.ts'

/** One call a Safe makes; `operation` 1 is a delegate call (e.g. into MultiSendCallOnly). */
export type SafeCall = { to: Address; data: Hex; value?: bigint; operation?: 0 | 1 }

/**
 * Builds Safe 1.4.1 `execTransaction` calls signed by one owner key (threshold 1). The Safe pays
 * nothing and needs no ETH for gas: a relayer sends the transaction. Safe nonces are tracked here
 * per Safe, reserved by `build` and committed only once the transaction is sent.
 */
export function createSafeSigner(publicClient: PublicClient, chainId: number) {
  const nonces = new Map<Address, bigint>()
  const nonceOf = async (safe: Address) => {
    let nonce = nonces.get(safe)
    if (nonce === undefined) {
      nonce = await publicClient.readContract({ address: safe, abi: safeAbi, functionName: 'nonce' })
      nonces.set(safe, nonce)
    }
    return nonce
  }
  return {
    /** Signs `call` for `safe` with `owner` at the Safe's next nonce. Run it inside the Safe's lane. */
    async build(safe: Address, owner: LocalAccount, call: SafeCall): Promise<Call> {
      const nonce = await nonceOf(safe)
      const message = {
        to: call.to,
        value: call.value ?? 0n,
        data: call.data,
        operation: call.operation ?? 0,
        safeTxGas: 0n,
        baseGas: 0n,
        gasPrice: 0n,
        gasToken: zeroAddress,
        refundReceiver: zeroAddress,
        nonce,
      } as const
      const signature = await owner.signTypedData!({
        domain: { chainId, verifyingContract: safe },
        types: {
          SafeTx: [
            { name: 'to', type: 'address' },
            { name: 'value', type: 'uint256' },
            { name: 'data', type: 'bytes' },
            { name: 'operation', type: 'uint8' },
            { name: 'safeTxGas', type: 'uint256' },
            { name: 'baseGas', type: 'uint256' },
            { name: 'gasPrice', type: 'uint256' },
            { name: 'gasToken', type: 'address' },
            { name: 'refundReceiver', type: 'address' },
            { name: 'nonce', type: 'uint256' },
          ],
        },
        primaryType: 'SafeTx',
        message,
      })
      return {
        to: safe,
        data: encodeFunctionData({
          abi: safeAbi,
          functionName: 'execTransaction',
          args: [
            call.to,
            message.value,
            call.data,
            message.operation,
            0n,
            0n,
            0n,
            zeroAddress,
            zeroAddress,
            signature,
          ],
        }),
        commit: () => nonces.set(safe, nonce + 1n),
        rollback: () => nonces.delete(safe),
      }
    },
  }
}

export type SafeSigner = ReturnType<typeof createSafeSigner>
