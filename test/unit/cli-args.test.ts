import * as assert from 'node:assert/strict';
import { USAGE, UsageError, parseCli, parseHeader, type GetCommand, type PutCommand } from '../../src/cli/args';

const URL_A = 'https://example.com/file.iso';
const HEX = '0123456789abcdef'.repeat(4);

describe('parseCli', () => {
  it('parses a full get command line with repeated --header', () => {
    const command = parseCli([
      'get',
      URL_A,
      '-o',
      'downloads/file.iso',
      '--connections',
      '4',
      '--sha256',
      HEX.toUpperCase(),
      '--header',
      'Authorization: Bearer abc:def',
      '--header',
      'X-Trace:   42  ',
      '--header=Accept: */*',
      '--retries',
      '0',
      '--stall-timeout',
      '15',
      '--limit-rate',
      '500K',
      '--no-checksum-discovery',
    ]);
    const expected: GetCommand = {
      command: 'get',
      url: URL_A,
      output: 'downloads/file.iso',
      connections: 4,
      sha256: HEX,
      headers: { Authorization: 'Bearer abc:def', 'X-Trace': '42', Accept: '*/*' },
      retries: 0,
      stallTimeoutSeconds: 15,
      limitRate: 500 * 1024,
      quiet: false,
      checksumDiscovery: false,
    };
    assert.deepEqual(command, expected);
  });

  it('accepts options before the command and --output in long form', () => {
    const command = parseCli(['--output', 'out.bin', 'get', URL_A]) as GetCommand;
    assert.equal(command.command, 'get');
    assert.equal(command.url, URL_A);
    assert.equal(command.output, 'out.bin');
  });

  it('fills in defaults', () => {
    const expected: GetCommand = {
      command: 'get',
      url: URL_A,
      output: 'out.bin',
      connections: 1,
      sha256: undefined,
      headers: {},
      retries: 5,
      stallTimeoutSeconds: 30,
      limitRate: 0,
      quiet: false,
      checksumDiscovery: true,
    };
    assert.deepEqual(parseCli(['get', URL_A, '-o', 'out.bin']), expected);
  });

  it('get without -o saves into the current folder, like wget and curl -OJ', () => {
    assert.equal((parseCli(['get', URL_A]) as GetCommand).output, '.');
  });

  it('--quiet / -q for scripts, on get and put', () => {
    assert.equal((parseCli(['get', URL_A, '--quiet']) as GetCommand).quiet, true);
    assert.equal((parseCli(['put', 'f.bin', URL_A, '-q']) as PutCommand).quiet, true);
  });

  it('--version / -V', () => {
    assert.deepEqual(parseCli(['--version']), { command: 'version' });
    assert.deepEqual(parseCli(['get', URL_A, '-V']), { command: 'version' });
  });

  it('--limit-rate takes curl\'s binary suffixes, for get and put', () => {
    assert.equal((parseCli(['get', URL_A, '-o', 'o', '--limit-rate', '4M']) as GetCommand).limitRate, 4 * 1024 * 1024);
    assert.equal((parseCli(['get', URL_A, '-o', 'o', '--limit-rate', '1G']) as GetCommand).limitRate, 1024 ** 3);
    assert.equal((parseCli(['put', 'f.bin', URL_A, '--limit-rate', '500k']) as PutCommand).limitRate, 500 * 1024);
  });

  it('a later --header with the same name wins', () => {
    const command = parseCli(['get', URL_A, '-o', 'o', '--header', 'X-A: 1', '--header', 'X-A: 2']) as GetCommand;
    assert.deepEqual(command.headers, { 'X-A': '2' });
  });

  const help: Array<{ title: string; argv: string[] }> = [
    { title: 'no arguments', argv: [] },
    { title: '--help', argv: ['--help'] },
    { title: '-h', argv: ['-h'] },
    { title: '--help with a command', argv: ['get', URL_A, '--help'] },
  ];
  for (const { title, argv } of help) {
    it(`${title} → help`, () => {
      assert.deepEqual(parseCli(argv), { command: 'help' });
    });
  }

  const usageErrors: Array<{ title: string; argv: string[]; message: RegExp }> = [
    { title: 'empty -o', argv: ['get', URL_A, '-o', ''], message: /-o/ },
    { title: 'no URL', argv: ['get', '-o', 'out'], message: /one URL/ },
    { title: 'two URLs', argv: ['get', URL_A, 'https://example.com/other', '-o', 'out'], message: /one URL/ },
    { title: 'unknown command', argv: ['fetch', URL_A, '-o', 'out'], message: /unknown command/ },
    { title: '--sha256 too short', argv: ['get', URL_A, '-o', 'o', '--sha256', HEX.slice(1)], message: /sha256/ },
    { title: '--sha256 too long', argv: ['get', URL_A, '-o', 'o', '--sha256', `${HEX}0`], message: /sha256/ },
    { title: '--sha256 not hex', argv: ['get', URL_A, '-o', 'o', '--sha256', 'z'.repeat(64)], message: /sha256/ },
    { title: '--sha256 empty', argv: ['get', URL_A, '-o', 'o', '--sha256', ''], message: /sha256/ },
    { title: '--connections 0', argv: ['get', URL_A, '-o', 'o', '--connections', '0'], message: /--connections/ },
    { title: '--connections negative', argv: ['get', URL_A, '-o', 'o', '--connections=-2'], message: /--connections/ },
    { title: '--connections fractional', argv: ['get', URL_A, '-o', 'o', '--connections', '1.5'], message: /--connections/ },
    { title: '--connections not a number', argv: ['get', URL_A, '-o', 'o', '--connections', 'many'], message: /--connections/ },
    { title: '--connections empty', argv: ['get', URL_A, '-o', 'o', '--connections', ''], message: /--connections/ },
    { title: '--retries negative', argv: ['get', URL_A, '-o', 'o', '--retries=-1'], message: /--retries/ },
    { title: '--stall-timeout 0', argv: ['get', URL_A, '-o', 'o', '--stall-timeout', '0'], message: /--stall-timeout/ },
    { title: '--limit-rate not a speed', argv: ['get', URL_A, '-o', 'o', '--limit-rate', 'fast'], message: /--limit-rate/ },
    { title: '--limit-rate negative', argv: ['get', URL_A, '-o', 'o', '--limit-rate=-4M'], message: /--limit-rate/ },
    { title: 'header without colon', argv: ['get', URL_A, '-o', 'o', '--header', 'NoColon'], message: /bad header/ },
    { title: 'header without name', argv: ['get', URL_A, '-o', 'o', '--header', ': value'], message: /bad header/ },
    { title: 'header name with a space', argv: ['get', URL_A, '-o', 'o', '--header', 'Bad Name: v'], message: /bad header/ },
    { title: 'one bad header among good ones', argv: ['get', URL_A, '-o', 'o', '--header', 'A: 1', '--header', 'B(: 2'], message: /bad header/ },
  ];
  for (const { title, argv, message } of usageErrors) {
    it(`${title} → UsageError`, () => {
      assert.throws(() => parseCli(argv), (error: unknown) => error instanceof UsageError && message.test(error.message));
    });
  }

  const parseArgsErrors: Array<{ title: string; argv: string[]; code: string }> = [
    { title: 'unknown option', argv: ['get', URL_A, '-o', 'o', '--verbose'], code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' },
    { title: '-o without a value', argv: ['get', URL_A, '-o'], code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' },
  ];
  for (const { title, argv, code } of parseArgsErrors) {
    it(`${title} → ${code} (main prints the usage for these)`, () => {
      assert.throws(() => parseCli(argv), (error: unknown) => (error as { code?: string }).code === code);
    });
  }

  it('USAGE documents every option', () => {
    for (const option of ['-o', '--output', '--connections', '--sha256', '--header', '--retries', '--stall-timeout', '--limit-rate', '--quiet', '--version']) {
      assert.ok(USAGE.includes(option), option);
    }
  });
});

describe('parseHeader', () => {
  const valid: Array<{ text: string; expected: [string, string] }> = [
    { text: 'Authorization: Bearer abc', expected: ['Authorization', 'Bearer abc'] },
    { text: 'X-Token:abc', expected: ['X-Token', 'abc'] },
    { text: '  X-Spaced  :   value with  inner  spaces  ', expected: ['X-Spaced', 'value with  inner  spaces'] },
    { text: 'X-Colons: a:b:c', expected: ['X-Colons', 'a:b:c'] },
    { text: 'X-Empty:', expected: ['X-Empty', ''] },
    { text: 'X-Url: https://example.com:8443/p', expected: ['X-Url', 'https://example.com:8443/p'] },
    { text: "!#$%&'*+.^_`|~0-9Az: token chars", expected: ["!#$%&'*+.^_`|~0-9Az", 'token chars'] },
  ];
  for (const { text, expected } of valid) {
    it(`${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseHeader(text), expected);
    });
  }

  const invalid = ['NoColon', '', ':', ': value', '   : value', 'Bad Name: v', 'Bad(Name): v', 'Bad"Name: v', 'Na/me: v', 'Ünï: v', 'X\tY: v'];
  for (const text of invalid) {
    it(`${JSON.stringify(text)} → UsageError`, () => {
      assert.throws(() => parseHeader(text), UsageError);
    });
  }
});
