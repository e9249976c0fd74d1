import { type Address, encodeAbiParameters, type Hex, keccak256 } from 'viem'

/**
 * A job's id as the economy derives it: `keccak256(abi.encode(client, providerId, specHash))`. A
 * client knows it before its transaction lands.
 *
 * @example
 * const jobId = jobIdOf(safeAddress, 7n, specHash)
 */
export function jobIdOf(client: Address, providerId: bigint, specHash: Hex): bigint {
  return BigInt(
    keccak256(
      encodeAbiParameters(
        [{ type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }],
        [client, providerId, specHash],
      ),
    ),
  )
}
