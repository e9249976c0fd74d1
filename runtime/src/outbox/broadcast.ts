import type { Intent } from '@agora/db'
import { type Address, type Hex, keccak256, type LocalAccount } from 'viem'
import { wrapChainError } from '../errors.ts'
import { feesPerGas } from './gas.ts'
import type { Call } from './intent-handler.ts'
import type { Outbox } from './outbox.ts'
import { withRetries } from './retry.ts'

/**
 * Signs `call` with the relayer's next nonce, records the signed bytes on every intent it carries
 * (the first holds the nonce), then broadcasts. A crash from the record on rebroadcasts the same bytes.
 */
export async function signAndBroadcast(
  outbox: Outbox,
  relayer: LocalAccount,
  call: Call,
  gas: bigint,
  carried: Intent[],
): Promise<Hex> {
  const { maxFeePerGas, maxPriorityFeePerGas } = await withRetries(outbox.log, 'fees', () =>
    feesPerGas(outbox),
  )
  return outbox.relayerLocks.get(relayer.address)!.run(async () => {
    const nonce = await nextNonce(outbox, relayer.address)
    const rawTx = await relayer.signTransaction({
      chainId: outbox.chainId,
      type: 'eip1559',
      nonce,
      to: call.to,
      data: call.data,
      value: call.value ?? 0n,
      gas,
      maxFeePerGas,
      maxPriorityFeePerGas,
    })
    const txHash = keccak256(rawTx)
    // The signed bytes are in the outbox before they leave: a crash from here on rebroadcasts them.
    await Promise.all(
      carried.map((intent, n) =>
        outbox.markSent(intent.id, { nonce: n === 0 ? nonce : null, txHash, rawTx }),
      ),
    )
    outbox.nonces.set(relayer.address, nonce + 1)
    call.commit?.()
    await broadcast(outbox, rawTx, txHash, relayer.address)
    return txHash
  })
}

async function nextNonce(outbox: Outbox, relayer: Address) {
  let nonce = outbox.nonces.get(relayer)
  if (nonce === undefined) {
    nonce = await outbox.publicClient.getTransactionCount({ address: relayer, blockTag: 'pending' })
    outbox.nonces.set(relayer, nonce)
  }
  return nonce
}

/** Hands signed bytes to the node; bytes it already has are fine (a rebroadcast). */
export async function broadcast(outbox: Outbox, rawTx: Hex, txHash: Hex, relayer: Address) {
  try {
    await withRetries(outbox.log, 'broadcast', () =>
      outbox.publicClient.sendRawTransaction({ serializedTransaction: rawTx }),
    )
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error)
    // The node has these very bytes already (a rebroadcast): waiting for the receipt is all there is to do.
    if (/already known|already imported|transaction already exists/i.test(text)) return
    if (/nonce too low/i.test(text)) {
      const landed = await outbox.publicClient.getTransactionReceipt({ hash: txHash }).catch(() => undefined)
      if (landed) return
      outbox.nonces.delete(relayer) // the nonce went to another transaction: resync before the next one
    }
    throw wrapChainError(error, 'broadcasting a transaction')
  }
}
