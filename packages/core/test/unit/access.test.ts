import { describe, expect, it } from 'vitest'
import { AccessControl, type AccessRules } from '@net-server/core'
import { checkCidr, checkPattern } from '../../src/access.js'

function rules (r: Partial<AccessRules>): AccessControl {
  return new AccessControl({ allow: [], deny: [], cidrAllow: [], cidrDeny: [], ...r })
}

describe('AccessControl (Net::Server allow_deny)', () => {
  it('admits everyone when there are no rules, even without an address', () => {
    const a = rules({})
    expect(a.allows({ address: '203.0.113.9' })).toBe(true)
    expect(a.allows({ address: '2001:db8::1' })).toBe(true)
    expect(a.allows({})).toBe(true)
  })

  it.each<[string, Partial<AccessRules>, string, boolean]>([
    // allow rules present: anything not matched is refused
    ['allow exact IPv4', { allow: ['127\\.0\\.0\\.1'] }, '127.0.0.1', true],
    ['allow is anchored: no partial match', { allow: ['127\\.0\\.0\\.1'] }, '127.0.0.10', false],
    ['allow is anchored at the start', { allow: ['0\\.0\\.1'] }, '127.0.0.1', false],
    ['allow pattern with a quantifier', { allow: ['10\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}'] }, '10.1.22.3', true],
    ['allow alternatives each anchored', { allow: ['10\\.0\\.0\\.1|10\\.0\\.0\\.2'] }, '10.0.0.22', false],
    ['allow IPv6', { allow: ['::1'] }, '::1', true],
    ['allow rules refuse the rest', { allow: ['10\\..*'] }, '192.168.1.1', false],
    ['cidrAllow IPv4', { cidrAllow: ['10.0.0.0/8'] }, '10.200.3.4', true],
    ['cidrAllow refuses outside', { cidrAllow: ['10.0.0.0/8'] }, '11.0.0.1', false],
    ['cidrAllow IPv6', { cidrAllow: ['2001:db8::/32'] }, '2001:db8:1::5', true],
    ['cidrAllow IPv6 refuses outside', { cidrAllow: ['2001:db8::/32'] }, '2001:db9::5', false],
    ['cidrAllow a single host without prefix', { cidrAllow: ['192.0.2.7'] }, '192.0.2.7', true],
    ['cidrAllow a single host without prefix, and no other', { cidrAllow: ['192.0.2.7'] }, '192.0.2.8', false],
    ['cidrAllow a single IPv6 host without prefix', { cidrAllow: ['2001:db8::7'] }, '2001:db8::7', true],
    ['cidrAllow a single IPv6 host without prefix, and no other', { cidrAllow: ['2001:db8::7'] }, '2001:db8::8', false],
    ['cidrAllow IPv4 does not admit an IPv6 peer', { cidrAllow: ['0.0.0.0/0'] }, '2001:db8::1', false],
    ['IPv4-mapped IPv6 peer matches IPv4 CIDR', { cidrAllow: ['127.0.0.0/8'] }, '::ffff:127.0.0.1', true],
    ['IPv4-mapped IPv6 peer matches an IPv4 pattern', { allow: ['127\\.0\\.0\\.1'] }, '::ffff:127.0.0.1', true],
    ['IPv4-mapped IPv6 peer with groups of several digits', { allow: ['10\\.100\\.22\\.3'] }, '::FFFF:10.100.22.3', true],
    ['no IPv4 is read out of a mapped address followed by more text', { allow: ['10\\.1\\.2\\.3'] }, '::ffff:10.1.2.3x', false],
    ['no IPv4 is read out of a mapped address after other text', { cidrAllow: ['10.0.0.0/8'] }, 'x::ffff:10.1.2.3', false],
    ['white space around an address is ignored', { allow: ['127\\.0\\.0\\.1'] }, ' 127.0.0.1 ', true],
    ['white space around a mapped address is ignored', { allow: ['127\\.0\\.0\\.1'] }, ' ::ffff:127.0.0.1 ', true],
    // deny wins over allow
    ['deny beats allow', { allow: ['.*'], deny: ['10\\.0\\.0\\.5'] }, '10.0.0.5', false],
    ['deny leaves others to allow', { allow: ['.*'], deny: ['10\\.0\\.0\\.5'] }, '10.0.0.6', true],
    ['cidrDeny beats cidrAllow', { cidrAllow: ['10.0.0.0/8'], cidrDeny: ['10.1.0.0/16'] }, '10.1.2.3', false],
    ['cidrDeny leaves others to cidrAllow', { cidrAllow: ['10.0.0.0/8'], cidrDeny: ['10.1.0.0/16'] }, '10.2.2.3', true],
    ['cidrDeny beats a pattern allow', { allow: ['10\\..*'], cidrDeny: ['10.0.0.0/24'] }, '10.0.0.9', false],
    ['deny pattern beats cidrAllow', { cidrAllow: ['10.0.0.0/8'], deny: ['10\\.0\\.0\\.9'] }, '10.0.0.9', false],
    ['cidrDeny IPv6', { cidrDeny: ['::1/128'] }, '::1', false],
    // deny rules alone refuse only what they match
    ['deny alone refuses a match', { deny: ['192\\.168\\..*'] }, '192.168.0.1', false],
    ['deny alone admits the rest', { deny: ['192\\.168\\..*'] }, '10.0.0.1', true],
    ['cidrDeny alone admits the rest', { cidrDeny: ['192.168.0.0/16'] }, '10.0.0.1', true]
  ])('%s', (_, r, address, admitted) => {
    expect(rules(r).allows({ address })).toBe(admitted)
  })

  it('matches patterns against the host name too', () => {
    const a = rules({ allow: ['.*\\.example\\.com'], deny: ['bad\\.example\\.com'] })
    expect(a.allows({ address: '203.0.113.1', hostname: 'good.example.com' })).toBe(true)
    expect(a.allows({ address: '203.0.113.1', hostname: 'bad.example.com' })).toBe(false)
    expect(a.allows({ address: '203.0.113.1', hostname: 'example.org' })).toBe(false)
  })

  it('refuses a peer without an address when allow rules exist', () => {
    expect(rules({ cidrAllow: ['10.0.0.0/8'] }).allows({})).toBe(false)
  })

  it('matches no pattern against a name that is empty or absent', () => {
    // An inproc peer has an empty address: even a pattern that takes anything has nothing to match.
    expect(rules({ allow: ['.*'] }).allows({ address: '', hostname: '' })).toBe(false)
    expect(rules({ deny: ['undefined'] }).allows({ address: '10.0.0.1' })).toBe(true)
    expect(rules({ allow: ['undefined'] }).allows({ address: '10.0.0.1' })).toBe(false)
  })

  it('names the option that holds a bad CIDR block', () => {
    expect(() => rules({ cidrAllow: ['10.0.0.0/40'] })).toThrow("options.cidrAllow must hold CIDR blocks like 10.0.0.0/8 or ::1/128, got '10.0.0.0/40'")
    expect(() => rules({ cidrDeny: ['nowhere'] })).toThrow("options.cidrDeny must hold CIDR blocks like 10.0.0.0/8 or ::1/128, got 'nowhere'")
  })
})

describe('option checks', () => {
  it.each(['10.0.0.0/8', '0.0.0.0/0', '192.0.2.1', '::1', '::/0', '2001:db8::/32', ' 10.0.0.0/8 '])('accepts CIDR %j', (value) => {
    expect(() => checkCidr(value, 'cidrAllow')).not.toThrow()
  })

  it.each(['', '10.0.0.0/', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0/8', 'localhost', '10.0.0.0/-1', '10.0.0.0/ 8', '10.0.0.0/8x', '10.0.0.0/8.0', '10.0.0.0/1e1', '10.0.0.0/0x8'])('refuses CIDR %j', (value) => {
    expect(() => checkCidr(value, 'cidrDeny')).toThrow(new RangeError(`options.cidrDeny must hold CIDR blocks like 10.0.0.0/8 or ::1/128, got '${value}'`))
  })

  it('accepts regular expressions and refuses broken ones', () => {
    expect(() => checkPattern('^10\\.\\d+$', 'allow')).not.toThrow()
    expect(() => checkPattern('(', 'allow')).toThrow(new RangeError("options.allow must hold regular expressions, got '('"))
  })
})
