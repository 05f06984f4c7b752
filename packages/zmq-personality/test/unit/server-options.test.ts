import { describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import { optionDefaults, type OptionSpecs } from '@net-server/core'
import { zmqServerOptionSpecs } from '@net-server/zmq'
import { checkDashboardOptions } from '../../src/server-options.js'

/** The value the command line's text `raw` gives option `name`, checked. */
function fromText (specs: OptionSpecs, name: string, raw: string): unknown {
  const spec = specs[name]!
  return spec.validate(spec.parse!(raw, name), name)
}

/** What `validate` of `name` throws for `value`, or `undefined` when it takes it. */
function refusal (specs: OptionSpecs, name: string, value: unknown): Error | undefined {
  try {
    specs[name]!.validate(value, name)
    return undefined
  } catch (err) {
    return err as Error
  }
}

describe('port', () => {
  it('takes two ports, or one number n for [n, n + 1], and returns them frozen', () => {
    const specs = zmqServerOptionSpecs()
    const port = specs.port!.validate([7000, 7001], 'port')
    expect(port).toEqual([7000, 7001])
    expect(Object.isFrozen(port)).toBe(true)
    expect(specs.port!.validate(6000, 'port')).toEqual([6000, 6001])
    expect(specs.port!.validate([0, 0], 'port')).toEqual([0, 0])
    expect(specs.port!.validate([65535, 0], 'port')).toEqual([65535, 0])
  })

  it('reads them from the command line, white space around each ignored', () => {
    expect(fromText(zmqServerOptionSpecs(), 'port', ' 7000 , 7001')).toEqual([7000, 7001])
  })

  it.each<[unknown, ErrorConstructor, string]>([
    [[1, 2, 3], TypeError, 'options.port must be [frontend port, backend port], got an array'],
    [[1], TypeError, 'options.port must be [frontend port, backend port], got an array'],
    ['6660,6661', TypeError, "options.port must be [frontend port, backend port], got '6660,6661'"],
    [65535, RangeError, 'options.port must hold two ports from 0 to 65535, got 65536'],
    [[-1, 2], RangeError, 'options.port must hold two ports from 0 to 65535, got -1'],
    [[1, 65536], RangeError, 'options.port must hold two ports from 0 to 65535, got 65536'],
    [[1.5, 2], RangeError, 'options.port must hold two ports from 0 to 65535, got 1.5'],
    [['1', 2], RangeError, "options.port must hold two ports from 0 to 65535, got '1'"],
    [[7000, 7000], RangeError, 'options.port: the frontend and backend ports must differ, got 7000 twice']
  ])('refuses %j', (value, Type, message) => {
    expect(refusal(zmqServerOptionSpecs(), 'port', value)).toEqual(new Type(message))
  })
})

describe('the other socket options', () => {
  it('reads endpoints, the host and the service from the command line as given', () => {
    const given = { frontend: 'tcp://127.0.0.1:7000', backend: 'ipc:///tmp/b.sock', controlEndpoint: 'ipc:///tmp/c.sock', host: '::1', service: 'upper' }
    const specs = zmqServerOptionSpecs()
    for (const [name, raw] of Object.entries(given)) expect(fromText(specs, name, raw), name).toBe(raw)
  })

  it('refuses an empty host, and takes no endpoint for the ones derived from host and port', () => {
    const specs = zmqServerOptionSpecs()
    expect(refusal(specs, 'host', '')).toEqual(new RangeError('options.host must not be empty'))
    for (const name of ['frontend', 'backend', 'controlEndpoint']) expect(specs[name]!.validate(undefined, name), name).toBeUndefined()
  })
})

describe('security options', () => {
  const { publicKey, secretKey } = curveKeyPair()

  it('admit no remote worker and require no client key by default', () => {
    expect(optionDefaults(zmqServerOptionSpecs())).toMatchObject({
      insecureBackend: false, clientKeys: [], workerKeys: [], curve: undefined, curveSecretKey: undefined, curveKeyFile: undefined
    })
  })

  it('take a secret key, trimmed from the command line, and never echo a bad one', () => {
    const specs = zmqServerOptionSpecs()
    expect(fromText(specs, 'curveSecretKey', ` ${secretKey} `)).toBe(secretKey)
    expect(specs.curveSecretKey!.validate(undefined, 'curveSecretKey')).toBeUndefined()
    const error = refusal(specs, 'curveSecretKey', secretKey.slice(1))
    expect(error).toEqual(new TypeError('options.curveSecretKey must be a 40-character Z85 key'))
  })

  it('take lists of public keys, and name the one that is not', () => {
    const specs = zmqServerOptionSpecs()
    expect(specs.clientKeys!.validate([publicKey], 'clientKeys')).toEqual([publicKey])
    expect(fromText(specs, 'workerKeys', `${publicKey}`)).toEqual([publicKey])
    expect(refusal(specs, 'workerKeys', [publicKey, 'short'])).toEqual(new TypeError("options.workerKeys must hold 40-character Z85 public keys, got 'short'"))
  })

  it('refuse an empty key file name', () => {
    expect(refusal(zmqServerOptionSpecs(), 'curveKeyFile', '')).toEqual(new RangeError('options.curveKeyFile must not be empty'))
  })
})

describe('the dashboard options', () => {
  const token = zmqServerOptionSpecs().dashboardToken!

  it.each<[unknown, ErrorConstructor, string]>([
    ['short', RangeError, 'options.dashboardToken must be at least 16 characters, without spaces'],
    ['sixteen chars ok', RangeError, 'options.dashboardToken must be at least 16 characters, without spaces'],
    [1234, TypeError, 'options.dashboardToken must be a string']
  ])('refuses the token %j without echoing it', (value, Type, message) => {
    expect(() => token.validate(value, 'dashboardToken')).toThrow(new Type(message))
  })

  it('takes a token of 16 characters or more, trimmed on the command line, and none by default', () => {
    expect(token.validate(token.parse!('  0123456789abcdef\n', 'dashboardToken'), 'dashboardToken')).toBe('0123456789abcdef')
    expect(token.validate(undefined, 'dashboardToken')).toBeUndefined()
  })

  type Checked = Parameters<typeof checkDashboardOptions>[0]
  const off: Checked = { dashboard: false, dashboardActions: false, dashboardToken: undefined, metricsPort: undefined }
  it.each<[string, Partial<Checked>, string | undefined]>([
    ['nothing on', {}, undefined],
    ['the dashboard without the metrics endpoint', { dashboard: true }, 'options.dashboard needs options.metricsPort: the dashboard is served at / of the metrics endpoint'],
    ['actions without the dashboard', { dashboardActions: true, metricsPort: 0 }, 'options.dashboardActions needs options.dashboard'],
    ['actions without a token', { dashboard: true, dashboardActions: true, metricsPort: 0 }, 'options.dashboardActions needs options.dashboardToken: actions are taken only for requests that carry it'],
    ['actions with a token', { dashboard: true, dashboardActions: true, metricsPort: 0, dashboardToken: '0123456789abcdef' }, undefined]
  ])('%s', (_what, options, message) => {
    const check = (): void => { checkDashboardOptions({ ...off, ...options }) }
    if (message === undefined) expect(check).not.toThrow()
    else expect(check).toThrow(new RangeError(message))
  })
})
