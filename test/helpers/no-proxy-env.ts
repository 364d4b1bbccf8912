/**
 * A vitest setup file: every test process drops the proxy variables it inherited, so in-process
 * clients (createHttpAgent reads process.env) reach the 127.0.0.1 test servers directly even on a
 * developer's machine with HTTP_PROXY set. Tests about proxies pass an env of their own.
 */
for (const k of Object.keys(process.env)) if (/^(https?|no|all)_proxy$/i.test(k)) delete process.env[k];
