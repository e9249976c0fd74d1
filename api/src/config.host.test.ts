// Issue 10, finding 14: on the devnet the API listened on every interface by default, so anyone on
// the network could reach the development accounts' agents. It listens on loopback unless told otherwise.
import { describe, expect, test } from 'vitest'
import { writeFakeManifest } from '../test/config-fixture.ts'
import { loadConfig } from './config.ts'

const { chainEnv } = writeFakeManifest('agora-host-')

describe('loadConfig (HOST)', () => {
  test('default: the devnet API listens on loopback only', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1')
  })

  test('behavior: HOST chooses the interface, on the devnet too', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1')
  })

  test('behavior: a HOST that is not an interface address or name is refused', () => {
    expect(() => loadConfig({ HOST: 'http://x' })).toThrow(/HOST: /)
  })

  test('behavior: on a real chain the API listens on every interface unless HOST says otherwise', () => {
    expect(loadConfig(chainEnv).host).toBe('0.0.0.0')
    expect(loadConfig({ ...chainEnv, HOST: '10.0.0.5' }).host).toBe('10.0.0.5')
  })
})
