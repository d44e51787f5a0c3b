import assert from 'node:assert/strict';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { TransferError } from '../../src/core/errors';
import { createNoProxyMatcher, createProxyAgentFactory, parseProxyUrl, type ProxyAgentFactory } from '../../src/core/http/proxy';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

/** Builds agent factories like createProxyAgentFactory; each is disposed once the test is over. */
function factoriesDisposedAfterEachTest(): typeof createProxyAgentFactory {
  const factories: ProxyAgentFactory[] = [];
  afterEach(() => {
    for (const factory of factories.splice(0)) factory.dispose();
  });
  return (...args) => {
    const factory = createProxyAgentFactory(...args);
    factories.push(factory);
    return factory;
  };
}

describe('proxy: noProxy matching', () => {
  const cases: Array<[entries: string[], url: string, bypass: boolean]> = [
    [[], 'http://example.com/', false],
    [['*'], 'https://anything.test/x', true],
    [['other.test', '*'], 'http://example.com/', true],
    // plain host: the host and hosts under it
    [['example.com'], 'http://example.com/', true],
    [['example.com'], 'https://a.b.example.com/', true],
    [['example.com'], 'http://notexample.com/', false],
    [['example.com'], 'http://example.com.evil.test/', false],
    [['EXAMPLE.com.'], 'http://Example.COM/', true],
    // leading dot or *.: only hosts under it
    [['.example.com'], 'http://a.example.com/', true],
    [['.example.com'], 'http://example.com/', false],
    [['*.example.com'], 'http://deep.a.example.com/', true],
    [['*.example.com'], 'http://example.com/', false],
    // host:port
    [['example.com:8080'], 'http://example.com:8080/', true],
    [['example.com:8080'], 'http://example.com/', false],
    [['example.com:443'], 'https://example.com/', true],
    [['example.com:80'], 'https://example.com/', false],
    [['.example.com:8443'], 'https://a.example.com:8443/', true],
    // IP addresses and subnets
    [['127.0.0.1'], 'http://127.0.0.1:9000/', true],
    [['127.0.0.1'], 'http://127.0.0.2/', false],
    [['127.0.0.1:9000'], 'http://127.0.0.1:9001/', false],
    [['10.0.0.0/8'], 'http://10.20.30.40/', true],
    [['10.0.0.0/8'], 'http://11.0.0.1/', false],
    [['10.0.0.0/8'], 'http://ten.example/', false],
    [['::1'], 'http://[::1]:8080/', true],
    [['[::1]:8080'], 'http://[::1]:8080/', true],
    [['[::1]:8080'], 'http://[::1]:8081/', false],
    [['0:0:0:0:0:0:0:1'], 'http://[::1]/', true],
    [['fd00::/8'], 'http://[fd12::5]/', true],
    // an IP entry never matches a name, nor a name an IP
    [['127.0.0.1'], 'http://localhost/', false],
    [['localhost'], 'http://127.0.0.1/', false],
    // junk is ignored
    [['', '  ', '.', '10.0.0.0/99'], 'http://10.0.0.1/', false],
  ];
  for (const [entries, url, bypass] of cases) {
    it(`${JSON.stringify(entries)} ${bypass ? 'bypasses' : 'proxies'} ${url}`, () => {
      assert.equal(createNoProxyMatcher(entries)(new URL(url)), bypass);
    });
  }
});

describe('proxy: createProxyAgentFactory', () => {
  const make = factoriesDisposedAfterEachTest();

  it('goes direct without a proxy', () => {
    const factory = make({ strictSSL: true, noProxy: [] });
    assert.equal(factory.agentFor(new URL('http://example.com/')), undefined);
    assert.equal(factory.agentFor(new URL('https://example.com/')), undefined);
    assert.equal(factory.describe(), 'http: direct, https: direct');
  });

  it('uses an absolute-form agent for http and a CONNECT agent for https, one each, reused', () => {
    const factory = make({ proxyUrl: 'http://proxy.test:3128', strictSSL: true, noProxy: [] });
    const forHttp = factory.agentFor(new URL('http://a.test/x'));
    const forHttps = factory.agentFor(new URL('https://a.test/x'));
    assert.ok(forHttp instanceof HttpProxyAgent);
    assert.ok(forHttps instanceof HttpsProxyAgent);
    assert.equal(factory.agentFor(new URL('http://b.test:8080/y')), forHttp);
    assert.equal(factory.agentFor(new URL('https://c.test/z')), forHttps);
    assert.equal(forHttp.proxy.href, 'http://proxy.test:3128/');
    assert.equal((forHttp as unknown as { keepAlive: boolean }).keepAlive, true);
    assert.equal((forHttps as unknown as { keepAlive: boolean }).keepAlive, true);
  });

  it('honours noProxy', () => {
    const factory = make({ proxyUrl: 'http://proxy.test:3128', strictSSL: true, noProxy: ['.internal.test', 'localhost'] });
    assert.equal(factory.agentFor(new URL('https://git.internal.test/')), undefined);
    assert.equal(factory.agentFor(new URL('http://localhost:8080/')), undefined);
    assert.ok(factory.agentFor(new URL('https://internal.test/')));
  });

  it('accepts host:port without a scheme as an http proxy and an https:// proxy', () => {
    assert.equal(parseProxyUrl('proxy.test:3128').url.href, 'http://proxy.test:3128/');
    assert.equal(parseProxyUrl('https://proxy.test').url.href, 'https://proxy.test/');
    const factory = make({ proxyUrl: '  proxy.test:3128  ', strictSSL: true, noProxy: [] });
    assert.equal((factory.agentFor(new URL('https://a.test/')) as HttpsProxyAgent<string>).proxy.href, 'http://proxy.test:3128/');
  });

  it('moves credentials into Proxy-Authorization and keeps them out of the agent and the description', () => {
    const factory = make({ proxyUrl: 'http://us%40er:p%3Ass%20w@proxy.test:3128', strictSSL: true, noProxy: [] });
    for (const url of ['http://a.test/', 'https://a.test/']) {
      const agent = factory.agentFor(new URL(url)) as HttpProxyAgent<string> | HttpsProxyAgent<string>;
      assert.equal(agent.proxy.href, 'http://proxy.test:3128/');
      assert.deepEqual(agent.proxyHeaders, { 'Proxy-Authorization': basic('us@er:p:ss w') });
    }
    const description = factory.describe();
    assert.doesNotMatch(description, /us%40er|p%3Ass|us@er/);
    assert.match(description, /http:\/\/proxy\.test:3128\/ \(with credentials\)/);
  });

  it('sends no Proxy-Authorization without credentials', () => {
    const factory = make({ proxyUrl: 'http://proxy.test:3128', strictSSL: true, noProxy: [] });
    const agent = factory.agentFor(new URL('https://a.test/')) as HttpsProxyAgent<string>;
    assert.deepEqual(agent.proxyHeaders, {});
  });

  it('never throws for an unusable proxy setting: it reports it, and fails only the requests that need it', () => {
    for (const proxyUrl of ['socks5://user:secret@proxy.test:1080', 'http://user:secret@proxy test:80', 'user:secret@[bad']) {
      const factory = createProxyAgentFactory({ proxyUrl, strictSSL: true, noProxy: ['direct.test'] });
      const problem = factory.problem;
      assert.ok(problem, proxyUrl);
      assert.equal(problem.setting, 'http.proxy');
      assert.equal(problem.error.code, 'ERR_PROXY_CONFIG');
      assert.doesNotMatch(problem.error.message, /secret/);
      assert.match(problem.error.message, /http\.proxy/);
      for (const target of ['http://a.test/', 'https://a.test/']) {
        assert.throws(
          () => factory.agentFor(new URL(target)),
          (error: unknown) => error instanceof TransferError && error.code === 'ERR_PROXY_CONFIG' && !/secret/.test(error.message),
        );
      }
      assert.equal(factory.agentFor(new URL('https://direct.test/')), undefined, 'a noProxy host still goes direct');
      assert.doesNotMatch(factory.describe(), /secret/);
    }
  });

  it('treats an empty proxy setting as none', () => {
    const factory = make({ proxyUrl: '  ', strictSSL: true, noProxy: [] });
    assert.equal(factory.agentFor(new URL('http://a.test/')), undefined);
  });

  it('throws when used after dispose', () => {
    const factory = createProxyAgentFactory({ proxyUrl: 'http://proxy.test:3128', strictSSL: true, noProxy: [] });
    factory.agentFor(new URL('http://a.test/'));
    factory.dispose();
    assert.throws(() => factory.agentFor(new URL('http://a.test/')), /after dispose/);
  });
});

describe('proxy: environment fallback', () => {
  const make = factoriesDisposedAfterEachTest();
  const proxyOf = (factory: ProxyAgentFactory, url: string) =>
    (factory.agentFor(new URL(url)) as HttpProxyAgent<string> | HttpsProxyAgent<string> | undefined)?.proxy.href;

  it('takes HTTP_PROXY for http targets and HTTPS_PROXY for https targets', () => {
    const env = { HTTP_PROXY: 'http://plain.test:8080', HTTPS_PROXY: 'http://tunnel.test:8443' };
    const factory = make({ strictSSL: true, noProxy: [], useEnvironment: true, env });
    assert.equal(proxyOf(factory, 'http://a.test/'), 'http://plain.test:8080/');
    assert.equal(proxyOf(factory, 'https://a.test/'), 'http://tunnel.test:8443/');
    assert.match(factory.describe(), /\[\$HTTP_PROXY\].*\[\$HTTPS_PROXY\]/);
  });

  it('prefers lower-case variables and ignores empty ones', () => {
    const env = { http_proxy: 'http://lower.test:1', HTTP_PROXY: 'http://upper.test:1', https_proxy: '', HTTPS_PROXY: 'http://upper.test:2' };
    const factory = make({ strictSSL: true, noProxy: [], useEnvironment: true, env });
    assert.equal(proxyOf(factory, 'http://a.test/'), 'http://lower.test:1/');
    assert.equal(proxyOf(factory, 'https://a.test/'), 'http://upper.test:2/');
  });

  it('does not use HTTP_PROXY for https targets', () => {
    const factory = make({ strictSSL: true, noProxy: [], useEnvironment: true, env: { HTTP_PROXY: 'http://plain.test:8080' } });
    assert.equal(proxyOf(factory, 'https://a.test/'), undefined);
    assert.equal(proxyOf(factory, 'http://a.test/'), 'http://plain.test:8080/');
  });

  it('adds NO_PROXY to the noProxy setting', () => {
    const env = { HTTPS_PROXY: 'http://tunnel.test:8443', NO_PROXY: 'env.test, .corp.test  localhost' };
    const factory = make({ strictSSL: true, noProxy: ['setting.test'], useEnvironment: true, env });
    assert.equal(proxyOf(factory, 'https://env.test/'), undefined);
    assert.equal(proxyOf(factory, 'https://git.corp.test/'), undefined);
    assert.equal(proxyOf(factory, 'https://localhost/'), undefined);
    assert.equal(proxyOf(factory, 'https://setting.test/'), undefined);
    assert.equal(proxyOf(factory, 'https://other.test/'), 'http://tunnel.test:8443/');
  });

  it('reads no_proxy before NO_PROXY', () => {
    const env = { HTTPS_PROXY: 'http://tunnel.test:8443', no_proxy: 'lower.test', NO_PROXY: 'upper.test' };
    const factory = make({ strictSSL: true, noProxy: [], useEnvironment: true, env });
    assert.equal(proxyOf(factory, 'https://lower.test/'), undefined);
    assert.equal(proxyOf(factory, 'https://upper.test/'), 'http://tunnel.test:8443/');
  });

  it('ignores the environment when a proxy is configured, or when useEnvironment is off', () => {
    const env = { HTTP_PROXY: 'http://env.test:1', HTTPS_PROXY: 'http://env.test:2', NO_PROXY: '*' };
    const configured = make({ proxyUrl: 'http://setting.test:3', strictSSL: true, noProxy: [], useEnvironment: true, env });
    assert.equal(proxyOf(configured, 'https://a.test/'), 'http://setting.test:3/');
    const off = make({ strictSSL: true, noProxy: [], env });
    assert.equal(proxyOf(off, 'https://a.test/'), undefined);
    assert.equal(proxyOf(off, 'http://a.test/'), undefined);
  });

  it('takes credentials from an environment proxy and names the variable in errors', () => {
    const factory = make({ strictSSL: true, noProxy: [], useEnvironment: true, env: { https_proxy: 'http://u:secret@tunnel.test:8443' } });
    const agent = factory.agentFor(new URL('https://a.test/')) as HttpsProxyAgent<string>;
    assert.deepEqual(agent.proxyHeaders, { 'Proxy-Authorization': basic('u:secret') });
    assert.doesNotMatch(factory.describe(), /secret/);
    const socks = createProxyAgentFactory({ strictSSL: true, noProxy: [], useEnvironment: true, env: { HTTPS_PROXY: 'socks5://u:secret@s.test:1080' } });
    assert.equal(socks.problem?.setting, 'HTTPS_PROXY');
    assert.equal(socks.agentFor(new URL('http://a.test/')), undefined, 'http targets do not need HTTPS_PROXY');
    assert.throws(
      () => socks.agentFor(new URL('https://a.test/')),
      (error: unknown) => error instanceof TransferError && error.code === 'ERR_PROXY_CONFIG' && /\$HTTPS_PROXY/.test(error.message) && !/secret/.test(error.message),
    );
  });
});
