export const id = 73;
export const ids = [73];
export const modules = {

/***/ 11073:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  SessionBroker: () => (/* binding */ SessionBroker),
  assumeStepSession: () => (/* binding */ assumeStepSession),
  defaultCredentialSource: () => (/* binding */ defaultCredentialSource),
  isRetryableStsError: () => (/* binding */ isRetryableStsError)
});

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 11 modules
var core = __webpack_require__(91659);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-sts/dist-cjs/index.js
var dist_cjs = __webpack_require__(71695);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/credential-providers/dist-cjs/index.js
var credential_providers_dist_cjs = __webpack_require__(29719);
// EXTERNAL MODULE: ./src/core/credentials/errors.ts
var errors = __webpack_require__(48255);
// EXTERNAL MODULE: ./src/core/credentials/messages.ts
var messages = __webpack_require__(12140);
;// CONCATENATED MODULE: ./src/core/credentials/retry.ts
/** Bounded retries with full-jitter exponential backoff; sleep and randomness are injected so tests run instantly. */
/** Thrown when every attempt failed with a retryable error; `cause` is the last one. */
class RetriesExhaustedError extends Error {
    attempts;
    constructor(attempts, cause) {
        super(`gave up after ${attempts} attempts`, { cause });
        this.name = 'RetriesExhaustedError';
        this.attempts = attempts;
    }
}
/** Full-jitter delay before retry `attempt` (1-based): random in [0, min(maxMs, baseMs·2^(attempt-1))]. */
function backoffDelay(attempt, baseMs, maxMs, random) {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.floor(random() * ceiling);
}
/** Runs `fn` until it succeeds, a non-retryable error occurs (rethrown as is), or attempts run out. */
async function withRetry(fn, options) {
    for (let attempt = 1;; attempt++) {
        try {
            return await fn(attempt);
        }
        catch (e) {
            if (!options.isRetryable(e))
                throw e;
            if (attempt >= options.attempts)
                throw new RetriesExhaustedError(attempt, e);
            const delay = backoffDelay(attempt, options.baseMs, options.maxMs, options.random);
            options.onRetry?.(e, attempt, delay);
            await options.sleep(delay);
        }
    }
}

// EXTERNAL MODULE: ./src/core/credentials/session.ts
var session = __webpack_require__(19278);
;// CONCATENATED MODULE: ./src/adapters/aws/oidc.ts
/** GitHub OIDC tokens for the first STS hop: minted fresh per session, masked, claims decoded for messages. */


function str(v) {
    return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}
/** Decodes (does not verify) a JWT's claims; throws `invalid-token-shape` when it is not a JWT. */
function decodeOidcClaims(token) {
    const parts = token.split('.');
    let payload;
    try {
        if (parts.length !== 3)
            throw new Error('not three parts');
        payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    }
    catch (e) {
        throw new errors/* CredentialError */.o('invalid-token-shape', 'the OIDC token from GitHub is not a JWT (header.payload.signature)', {
            cause: e,
        });
    }
    if (typeof payload !== 'object' || payload === null) {
        throw new errors/* CredentialError */.o('invalid-token-shape', 'the OIDC token from GitHub has no claims object');
    }
    const c = payload;
    const aud = Array.isArray(c.aud) ? str(c.aud[0]) : str(c.aud);
    const claims = {};
    const set = (k, v) => {
        if (v !== undefined)
            claims[k] = v;
    };
    set('sub', str(c.sub));
    set('aud', aud);
    set('environment', str(c.environment));
    set('repository', str(c.repository));
    set('actor', str(c.actor));
    set('runId', str(c.run_id));
    set('exp', typeof c.exp === 'number' ? c.exp : undefined);
    return claims;
}
/**
 * A token source backed by `core.getIDToken(audience)`: a new token on every call (they live about
 * five minutes), masked at once. Failures become `oidc-unavailable` with the usual fix.
 */
function githubOidcSource(audience = 'sts.amazonaws.com', deps = {}) {
    const getIDToken = deps.getIDToken ?? ((aud) => core/* getIDToken */.V9(aud));
    const mask = deps.mask ?? ((s) => core/* setSecret */.Pq(s));
    return async () => {
        let token;
        try {
            token = await getIDToken(audience);
        }
        catch (e) {
            const detail = e instanceof Error ? e.message : String(e);
            throw new errors/* CredentialError */.o('oidc-unavailable', `could not get a GitHub OIDC token for audience "${audience}": ${detail.replace(/\s+/g, ' ').trim()}. ` +
                'Give the job `permissions: id-token: write` (and `contents: read`).', { cause: e });
        }
        mask(token);
        return { token, claims: decodeOidcClaims(token) };
    };
}

;// CONCATENATED MODULE: ./src/adapters/aws/sts.ts
/**
 * The STS hop chain of a module step (the only user of `@aws-sdk/client-sts`): GitHub OIDC →
 * AssumeRoleWithWebIdentity, or ambient credentials → AssumeRole, then `via` → role. Every request
 * is planned and checked locally first (`planChain`); only throttling, 5xx and network errors are
 * retried; every credential part is masked the moment it exists.
 */








const THROTTLING = new Set([
    'Throttling',
    'ThrottlingException',
    'ThrottledException',
    'RequestThrottledException',
    'TooManyRequestsException',
    'ProvisionedThroughputExceededException',
    'TransactionInProgressException',
    'RequestLimitExceeded',
    'BandwidthLimitExceeded',
    'LimitExceededException',
    'RequestThrottled',
    'SlowDown',
    'PriorRequestNotComplete',
    'EC2ThrottledException',
]);
const TRANSIENT = new Set([
    'TimeoutError',
    'RequestTimeout',
    'RequestTimeoutException',
    'InternalError',
    'InternalFailure',
    'ServiceUnavailable',
    // STS asks callers to retry when it cannot reach the token's issuer.
    'IDPCommunicationError',
    'IDPCommunicationErrorException',
]);
const NETWORK = new Set([
    'ECONNRESET',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'ECONNABORTED',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
]);
const NETWORK_IN_MESSAGE = new RegExp(`\\b(${[...NETWORK].join('|')})\\b`);
/** The network error code of an error, also when the SDK could only keep its text (errors from another realm). */
function networkCode(e) {
    if (typeof e.code === 'string' && NETWORK.has(e.code))
        return e.code;
    const cause = e.cause;
    if (typeof cause?.code === 'string' && NETWORK.has(cause.code))
        return cause.code;
    return typeof e.message === 'string' ? NETWORK_IN_MESSAGE.exec(e.message)?.[1] : undefined;
}
/** Whether an STS error is worth retrying: throttling, 5xx, timeouts and network errors only. */
function isRetryableStsError(error) {
    if (error instanceof errors/* CredentialError */.o || typeof error !== 'object' || error === null)
        return false;
    const e = error;
    const name = typeof e.name === 'string' ? e.name : '';
    const code = typeof e.code === 'string' ? e.code : '';
    if (THROTTLING.has(name) || THROTTLING.has(code) || e.$retryable?.throttling === true)
        return true;
    const status = e.$metadata?.httpStatusCode;
    if (status !== undefined && (status === 429 || status >= 500))
        return true;
    // Only SDK-level errors without an HTTP status can be network failures (a 4xx never is).
    return TRANSIENT.has(name) || (status === undefined && networkCode(e) !== undefined);
}
/** An SDK error as plain data for messages. */
function failureOf(error) {
    if (typeof error !== 'object' || error === null)
        return { name: 'Error', message: String(error) };
    const e = error;
    const code = typeof e.code === 'string' ? e.code : networkCode(e);
    let name = typeof e.name === 'string' ? e.name : 'Error';
    if ((name === 'Error' || name === 'TypeError') && code)
        name = code;
    const text = typeof e.message === 'string' && e.message !== '' ? e.message : name;
    const message = text.replace(/^AWS SDK error wrapper for (?:Error: )?/, '');
    const status = e.$metadata?.httpStatusCode;
    const failure = status === undefined ? { name, message } : { name, message, status };
    if (THROTTLING.has(name) || e.$retryable?.throttling === true)
        failure.throttling = true;
    return failure;
}
function defaultSleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
function maskerFor(options) {
    if (options.mask)
        return options.mask;
    return options.source.kind === 'github-oidc' ? (s) => core/* setSecret */.Pq(s) : () => undefined;
}
/** Picks the first hop: GitHub OIDC inside GitHub Actions (`GITHUB_ACTIONS=true`), else the ambient chain. */
function defaultCredentialSource(env = process.env, audience = 'sts.amazonaws.com') {
    return env.GITHUB_ACTIONS === 'true'
        ? { kind: 'github-oidc', token: githubOidcSource(audience) }
        : { kind: 'ambient' };
}
function callerOf(c) {
    return c.sessionToken === undefined
        ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
        : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
}
async function resolveAmbient(options, mask) {
    const source = options.source;
    const provider = (source.kind === 'ambient' && source.credentials) || (0,credential_providers_dist_cjs/* fromNodeProviderChain */.br)();
    let creds;
    try {
        creds = await provider();
    }
    catch (e) {
        const detail = e instanceof Error ? e.message : String(e);
        throw new errors/* CredentialError */.o('no-ambient-credentials', `no ambient AWS credentials for the first hop (${detail}). Outside GitHub Actions site-deploy starts from ` +
            'the AWS default credential chain: set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ' +
            '(for modules that need no AWS, like the offline example, pass --credentials none).', { cause: e });
    }
    mask(creds.secretAccessKey);
    if (creds.sessionToken)
        mask(creds.sessionToken);
    return creds;
}
function checkMfa(target, identity, claims) {
    if (!target.requireMfa)
        return;
    if (!claims) {
        throw new errors/* CredentialError */.o('mfa-required', `environment ${target.environment} has require_mfa: true, which needs proof of human approval — a GitHub OIDC ` +
            `token from a job in a protected GitHub environment. Ambient credentials (the CLI) cannot give it; deploy ` +
            `module "${identity.module}" from GitHub Actions.`);
    }
    if (!claims.environment) {
        throw new errors/* CredentialError */.o('mfa-required', `environment ${target.environment} has require_mfa: true, but the GitHub OIDC token (sub "${claims.sub ?? '(unknown)'}") ` +
            `names no GitHub environment. Run the job with \`environment: ${target.environment}\` and give that ` +
            'environment required reviewers.');
    }
}
function toStepCredentials(c, hop, mask) {
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        // Mask whatever did arrive before saying anything.
        for (const s of [c?.AccessKeyId, c?.SecretAccessKey, c?.SessionToken])
            if (s)
                mask(s);
        throw new errors/* CredentialError */.o('sts-failed', `STS answered ${hop.roleArn} without complete credentials`);
    }
    mask(c.AccessKeyId);
    mask(c.SecretAccessKey);
    mask(c.SessionToken);
    return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
    };
}
async function ambientPrincipal(region, caller) {
    const client = new dist_cjs/* STSClient */.iM({ region, credentials: callerOf(caller), maxAttempts: 1 });
    try {
        return (await client.send(new dist_cjs/* GetCallerIdentityCommand */.zI({}))).Arn;
    }
    catch {
        return undefined;
    }
    finally {
        client.destroy();
    }
}
async function chainStart(target, identity, options, mask) {
    const source = options.source;
    // Everything STS would refuse is found here, before a token is minted or a call is made.
    const plan = (0,session/* planChain */.VD)(target, identity, {
        kind: source.kind === 'github-oidc' ? 'web-identity' : 'ambient',
    });
    if (!plan)
        return undefined;
    if (source.kind === 'github-oidc') {
        const { token, claims } = await source.token();
        return { plan, token, claims };
    }
    checkMfa(target, identity, undefined);
    const caller = await resolveAmbient(options, mask);
    // Assuming a role from role credentials is role chaining: STS caps it at one hour.
    const chained = caller.sessionToken
        ? (0,session/* planChain */.VD)(target, identity, { kind: 'ambient', ambientIsSession: true })
        : undefined;
    return { plan: chained ?? plan, caller };
}
/** `require_mfa`: a human approval of this run, read back; fails closed without a way to read it. */
async function checkApproval(target, identity, claims, options) {
    checkMfa(target, identity, claims);
    if (!target.requireMfa)
        return;
    // Fail closed: without a way to read the run's approval back, an environment claim is not proof enough.
    const verdict = options.approval && claims
        ? await options.approval({ claims, target, identity })
        : {
            approved: false,
            detail: 'no approval read-back is configured (the action needs a github-token with actions: read)',
        };
    if (!verdict.approved) {
        throw new errors/* CredentialError */.o('approval-missing', `environment ${target.environment} has require_mfa: true, and no human approval of this run could be read back: ${verdict.detail}`);
    }
}
/** What a hop's failure message needs to say where the chain broke. */
function hopContext(hop, plan, target, identity, claims) {
    const ctx = {
        call: hop.kind,
        from: hop.kind === 'web-identity' ? 'oidc' : hop.from === 'ambient' ? 'ambient' : 'via',
        roleArn: hop.roleArn,
        ...(target.via !== undefined && hop.roleArn !== target.via ? { viaArn: target.via } : {}),
        region: target.region,
        site: identity.site,
        environment: identity.environment,
        module: identity.module,
        sessionName: plan.sessionName,
        durationSeconds: hop.params.DurationSeconds,
        externalId: hop.kind === 'assume-role' && hop.params.ExternalId !== undefined,
    };
    if (claims) {
        ctx.token = {};
        if (claims.sub)
            ctx.token.sub = claims.sub;
        if (claims.aud)
            ctx.token.aud = claims.aud;
        if (claims.repository)
            ctx.token.repository = claims.repository;
        if (claims.environment)
            ctx.token.environment = claims.environment;
    }
    return ctx;
}
/** The OIDC token a web-identity hop sends: minted in chainStart for every OIDC chain. */
function tokenOf(start) {
    if (start.token === undefined)
        throw new Error('internal: a web-identity hop without an OIDC token');
    return start.token;
}
/** One hop of the chain, retried within bounds; its failure explained with the hop's context. */
async function runHop(hop, ctx, start, signer, options, mask) {
    const log = options.log ?? (() => undefined);
    const client = new dist_cjs/* STSClient */.iM({
        region: ctx.region,
        // Our own bounded, jittered retry loop is the only one (an injectable sleep keeps tests instant).
        maxAttempts: 1,
        ...(hop.kind === 'assume-role' && signer ? { credentials: callerOf(signer) } : {}),
    });
    const label = `${hop.kind === 'web-identity' ? 'AssumeRoleWithWebIdentity' : 'AssumeRole'} ${hop.roleArn}`;
    log(`sts: ${label} as ${hop.params.RoleSessionName} for ${hop.params.DurationSeconds} s`);
    const attempts = options.maxAttempts ?? 5;
    try {
        const out = await withRetry(() => hop.kind === 'web-identity'
            ? client.send(new dist_cjs/* AssumeRoleWithWebIdentityCommand */.WH({ ...hop.params, WebIdentityToken: tokenOf(start) }))
            : client.send(new dist_cjs/* AssumeRoleCommand */.QL(hop.params)), {
            attempts,
            baseMs: options.baseDelayMs ?? 300,
            maxMs: options.maxDelayMs ?? 5000,
            sleep: options.sleep ?? defaultSleep,
            random: options.random ?? Math.random,
            isRetryable: isRetryableStsError,
            onRetry: (e, attempt, delay) => log(`sts: ${label}: ${failureOf(e).name}; retry ${attempt + 1}/${attempts} in ${delay} ms`),
        });
        return {
            credentials: toStepCredentials(out.Credentials, hop, mask),
            assumedRoleArn: out.AssumedRoleUser?.Arn,
            label,
        };
    }
    catch (e) {
        if (e instanceof errors/* CredentialError */.o)
            throw e;
        if (e instanceof RetriesExhaustedError)
            throw (0,messages/* stsUnavailable */.Nf)(failureOf(e.cause), ctx, e.attempts, e.cause);
        const failure = failureOf(e);
        if (ctx.from === 'ambient' && /^AccessDenied/.test(failure.name) && start.caller) {
            const who = await ambientPrincipal(ctx.region, start.caller);
            if (who)
                ctx.ambientPrincipal = who;
        }
        throw (0,messages/* stsFailure */.fo)(failure, ctx, e);
    }
    finally {
        client.destroy();
    }
}
/**
 * Makes one step's session: mints a fresh OIDC token (or reads ambient credentials), checks
 * `require_mfa`, then runs each planned hop. Undefined when the step needs no AWS session.
 * Uncached — use SessionBroker to reuse a module's session across its plan, apply and state reads.
 */
async function assumeStepSession(target, identity, options) {
    const mask = maskerFor(options);
    const start = await chainStart(target, identity, options, mask);
    if (!start)
        return undefined;
    const { plan, claims } = start;
    await checkApproval(target, identity, claims, options);
    const hops = [];
    let assumedRoleArn;
    let current;
    for (const hop of plan.hops) {
        const ctx = hopContext(hop, plan, target, identity, claims);
        const done = await runHop(hop, ctx, start, current ?? start.caller, options, mask);
        current = done.credentials;
        assumedRoleArn = done.assumedRoleArn;
        hops.push(done.label);
    }
    // planChain plans at least one hop whenever it plans a chain.
    if (!current)
        throw new Error(`internal: no STS hop was planned for module "${identity.module}"`);
    return sessionOf(plan, current, hops, assumedRoleArn, target, identity, claims);
}
/** The step's session from the chain's last hop, checked to be in the environment's account. */
function sessionOf(plan, credentials, hops, assumedRoleArn, target, identity, claims) {
    const accountOfSession = assumedRoleArn ? /^arn:[^:]+:sts::(\d{12}):/.exec(assumedRoleArn)?.[1] : undefined;
    if (accountOfSession !== undefined && accountOfSession !== target.account) {
        throw new errors/* CredentialError */.o('account-mismatch', `the session for module "${identity.module}" is in account ${accountOfSession}, not aws_account ` +
            `${target.account} of environment ${target.environment} (${assumedRoleArn})`);
    }
    if (accountOfSession !== undefined)
        credentials.accountId = accountOfSession;
    const session = {
        key: plan.key,
        credentials,
        sessionName: plan.sessionName,
        roleArn: plan.roleArn,
        expiration: credentials.expiration,
        hops,
        policy: plan.policy,
        policyArns: plan.policyArns,
    };
    if (assumedRoleArn)
        session.assumedRoleArn = assumedRoleArn;
    if (claims?.sub)
        session.subject = claims.sub;
    return session;
}
/**
 * Caches one session per module step (role, session policy, purpose and module): made once, reused
 * by the module's plan, apply and state reads, re-made (with a fresh OIDC token) only near expiry.
 * Concurrent requests for the same key wait for one STS chain.
 */
class SessionBroker {
    cache = new Map();
    options;
    constructor(options) {
        this.options = options;
    }
    /** Number of distinct sessions cached. */
    get size() {
        return this.cache.size;
    }
    /** The step's session — cached unless it expires within `minRemainingMs` (default `refreshBeforeMs`). */
    async get(target, identity, need = {}) {
        const plan = (0,session/* planChain */.VD)(target, identity, {
            kind: this.options.source.kind === 'github-oidc' ? 'web-identity' : 'ambient',
        });
        if (!plan)
            return undefined;
        const now = this.options.now ?? Date.now;
        const threshold = need.minRemainingMs ?? this.options.refreshBeforeMs ?? 5 * 60_000;
        const entry = this.cache.get(plan.key);
        if (entry) {
            const session = await entry; // a shared failure reaches every waiter
            if (session.expiration.getTime() - now() > threshold)
                return session;
            const latest = this.cache.get(plan.key);
            // Someone else started the refresh while we waited: join it rather than assuming twice.
            if (latest && latest !== entry)
                return latest;
        }
        const made = assumeStepSession(target, identity, this.options).then((s) => s);
        this.cache.set(plan.key, made);
        made.catch(() => {
            if (this.cache.get(plan.key) === made)
                this.cache.delete(plan.key);
        });
        return made;
    }
    /** A provider for the credential server of one step. */
    provider(target, identity) {
        return async (need) => {
            const session = await this.get(target, identity, need);
            if (!session) {
                throw new errors/* CredentialError */.o('sts-failed', `module "${identity.module}" needs no AWS session (no services, local state); start no credential server for it`, { kind: 'internal' });
            }
            return session.credentials;
        };
    }
    /** Forgets every cached session. */
    clear() {
        this.cache.clear();
    }
}


/***/ })

};
