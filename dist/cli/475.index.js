export const id = 475;
export const ids = [475,706];
export const modules = {

/***/ 71706:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   h: () => (/* binding */ staticKeys),
/* harmony export */   s3Client: () => (/* binding */ s3Client)
/* harmony export */ });
/** The static keys an environment carries (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`), if any. */
function staticKeys(env) {
    return env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            sessionToken: env.AWS_SESSION_TOKEN,
        }
        : undefined;
}
/**
 * An S3 client for state and lock objects. Credentials come from the step's session, else from
 * static keys in `env` (tests, `--credentials none` with a local S3), else the SDK's default chain.
 * Endpoints follow the SDK's standard settings (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`); a custom
 * endpoint gets path-style addressing (moto, MinIO and VPC endpoints by IP have no bucket host names).
 */
async function s3Client(region, env, credentials) {
    // Loaded on first use: a run without S3 (local state, no evidence bucket) never pays for the SDK.
    const { S3Client } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(711)]).then(__webpack_require__.t.bind(__webpack_require__, 53711, 19));
    const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const creds = credentials ?? staticKeys(env);
    return new S3Client({
        region,
        forcePathStyle: true,
        maxAttempts: 4,
        ...(endpoint ? { endpoint } : {}),
        ...(creds ? { credentials: creds } : {}),
    });
}


/***/ }),

/***/ 92475:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  localRuntime: () => (/* binding */ localRuntime)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
;// CONCATENATED MODULE: ./src/adapters/engines/workdir.ts




/** Throws (a programming error, not a step failure) unless `path` is absolute. */
function assertAbsolute(name, path) {
    if (!(0,external_node_path_.isAbsolute)(path))
        throw new Error(`${name} must be an absolute path, got '${path}'`);
}
/** Whether `child` is `parent` or lies inside it. */
function isInside(parent, child) {
    const rel = (0,external_node_path_.relative)((0,external_node_path_.resolve)(parent), (0,external_node_path_.resolve)(child));
    return rel === '' || (!rel.startsWith('..') && !(0,external_node_path_.isAbsolute)(rel));
}
/** Marks a folder as a step's work folder, so re-running the step may empty it. */
const WORKDIR_MARKER = '.site-deploy-workdir';
/**
 * Empties and recreates a step's work folder (owner-only: it will hold inputs and plans).
 * A non-empty folder without the marker is refused rather than deleted: a wrong path must
 * not wipe someone's checkout.
 */
async function freshWorkDir(workDir) {
    const entries = await (0,promises_.readdir)(workDir).catch(() => undefined);
    if (entries?.length && !entries.includes(WORKDIR_MARKER)) {
        throw new Error(`refusing to empty ${workDir}: it is not empty and was not made by site-deploy`);
    }
    await (0,promises_.rm)(workDir, { recursive: true, force: true });
    await (0,promises_.mkdir)(workDir, { recursive: true, mode: 0o700 });
    await (0,promises_.writeFile)((0,external_node_path_.join)(workDir, WORKDIR_MARKER), '');
}
/** Whether a catalog file stays behind when the folder is copied: local Terraform data and state. */
function skipInCopy(path) {
    const name = (0,external_node_path_.basename)(path);
    return name === '.terraform' || name.includes('.tfstate');
}
/** Copies one folder as copyModule does (no `.terraform`, no state; links only inside `root`). */
async function copyFolder(from, to, root) {
    await (0,promises_.cp)(from, to, {
        recursive: true,
        dereference: true,
        filter: async (src) => {
            if (src === from)
                return true;
            if (skipInCopy(src))
                return false;
            if (root !== undefined && (await (0,promises_.lstat)(src)).isSymbolicLink()) {
                const target = await (0,promises_.realpath)(src).catch(() => undefined);
                if (target === undefined || !isInside(root, target))
                    throw new Error(`${src} is a symlink that resolves outside the repository: refusing to copy it`);
            }
            return true;
        },
    });
}
/**
 * Copies a catalog module folder into a fresh work folder, without `.terraform` and any
 * `*.tfstate*` (a stray local state must never be planned against). Symlinks are copied as
 * the files they point to, so a link into a shared folder still works in the copy — but only
 * links that stay inside `containedIn` (the repository): one leading outside fails the copy,
 * naming it, before anything outside is read.
 */
async function copyModule(moduleDir, workDir, containedIn) {
    if (isInside(moduleDir, workDir) || isInside(workDir, moduleDir)) {
        throw new Error(`work folder '${workDir}' and module folder '${moduleDir}' must not contain each other`);
    }
    await freshWorkDir(workDir);
    const root = containedIn === undefined ? undefined : await (0,promises_.realpath)(containedIn);
    await copyFolder(moduleDir, workDir, root);
}
/** `source = "../shared"` and `"./sub"`: the local module paths a folder's Terraform files call. */
async function localModuleSources(dir) {
    const found = new Set();
    const files = (await (0,promises_.readdir)(dir).catch(() => [])).filter((f) => /\.tf(\.json)?$/.test(f));
    for (const f of files) {
        const text = await (0,promises_.readFile)((0,external_node_path_.join)(dir, f), 'utf8').catch(() => '');
        for (const m of text.matchAll(/"?source"?\s*[=:]\s*"(\.{1,2}\/[^"]*)"/g))
            found.add(m[1]);
    }
    return [...found].sort();
}
/**
 * Copies a catalog module into a fresh work folder keeping the repository's layout, so local
 * module sources (`source = "../shared"`) resolve in the copy as they do in the catalog: the
 * module lands at `<workDir>/tree/<its path in the repository>`, and every folder its Terraform
 * (transitively) calls by a local path beside it. Returns the folder Terraform runs in. A local
 * source outside the repository is refused.
 */
async function copyModuleTree(moduleDir, workDir, root) {
    const realRoot = await (0,promises_.realpath)(root);
    const mirror = (dir) => (0,external_node_path_.join)(workDir, 'tree', (0,external_node_path_.relative)(root, dir));
    await freshWorkDir(workDir);
    const copied = new Set();
    const queue = [(0,external_node_path_.resolve)(moduleDir)];
    while (queue.length > 0) {
        const dir = queue.shift();
        if (copied.has(dir))
            continue;
        copied.add(dir);
        if (!isInside(root, dir) || !isInside(realRoot, await (0,promises_.realpath)(dir).catch(() => dir)))
            throw new Error(`${dir} is a local module source outside the repository: refusing to copy it`);
        await (0,promises_.mkdir)((0,external_node_path_.dirname)(mirror(dir)), { recursive: true, mode: 0o700 });
        await copyFolder(dir, mirror(dir), realRoot);
        for (const src of await localModuleSources(dir)) {
            const next = (0,external_node_path_.resolve)(dir, src);
            // A subfolder is already in the copy; only folders beside or above need their own.
            if (!isInside(dir, next))
                queue.push(next);
        }
    }
    return mirror((0,external_node_path_.resolve)(moduleDir));
}
/** The files a step writes its inputs to as it starts (command steps, Terraform); a warm-up writes neither. */
const STARTED_FILES = new Set(['inputs.json', 'site-deploy.auto.tfvars.json']);
/**
 * The module steps a run had started, from its work folder: each module's folder (`<run>/<module>`,
 * beside its `.home` and `.state`) where the step wrote its inputs — a folder only warmed up
 * (copied, initialised ahead) is not one. Sorted; none when the folder cannot be read.
 */
async function startedSteps(runFolder) {
    const wroteInputs = async (dir, depth) => {
        const entries = await (0,promises_.readdir)(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries)
            if (e.isFile() && STARTED_FILES.has(e.name))
                return true;
        if (depth === 0)
            return false;
        for (const e of entries)
            if (e.isDirectory() && e.name !== '.terraform' && (await wroteInputs((0,external_node_path_.join)(dir, e.name), depth - 1)))
                return true;
        return false;
    };
    const steps = [];
    for (const e of await (0,promises_.readdir)(runFolder, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || /\.(home|state)$/.test(e.name))
            continue;
        // A Terraform step runs in <module>/tree/<its path in the repository>: a few levels down.
        if (await wroteInputs((0,external_node_path_.join)(runFolder, e.name), 8))
            steps.push(e.name);
    }
    return steps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
/** Writes JSON readable by the owner only (inputs may be secrets). */
async function writePrivateJson(path, value) {
    await (0,promises_.writeFile)(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}
/** The sha256 of a file, hex, streamed (plan files can be large). */
function sha256File(path) {
    return new Promise((ok, fail) => {
        const hash = (0,external_node_crypto_.createHash)('sha256');
        (0,external_node_fs_.createReadStream)(path)
            .on('data', (d) => hash.update(d))
            .on('error', fail)
            .on('end', () => ok(hash.digest('hex')));
    });
}
/** One line for any thrown value. */
function errorText(e) {
    return e instanceof Error ? e.message : String(e);
}
/** Ends a step that started at `started` (ms): its result, with how long it took. */
function stepFinisher(started) {
    return (r) => ({ hasChanges: false, outputs: {}, ...r, durationMs: Date.now() - started });
}

// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(74296);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(31421);
;// CONCATENATED MODULE: ./src/adapters/engines/path-lookup.ts
/** Finding a program on PATH, the way each caller needs it. */


/** The first `<dir>/<name>` on `path` this process may execute (an empty entry is the current folder). */
function findExecutable(name, path = process.env.PATH ?? '/usr/bin:/bin') {
    for (const dir of path.split(external_node_path_.delimiter)) {
        const p = (0,external_node_path_.join)(dir || '.', name);
        try {
            (0,external_node_fs_.accessSync)(p, external_node_fs_.constants.X_OK);
            return p;
        }
        catch {
            // not here
        }
    }
    return undefined;
}
/** Where `binary` may be: itself when it names a path, else `<dir>/<binary>` for each absolute PATH entry, in order. */
function pathCandidates(binary, env) {
    if (binary.includes('/'))
        return [binary];
    return (env.PATH ?? '')
        .split(external_node_path_.delimiter)
        .filter((d) => (0,external_node_path_.isAbsolute)(d))
        .map((d) => (0,external_node_path_.join)(d, binary));
}

;// CONCATENATED MODULE: ./src/adapters/engines/sandbox.ts
/**
 * The step sandbox (SPEC §6): each process of a module step runs in its own PID and mount
 * namespace (`unshare --pid --fork --mount-proc --kill-child`) under an unprivileged uid of its own
 * (`setpriv --reuid U --regid U --clear-groups --no-new-privs`). It sees no other process (its
 * /proc holds only its own namespace), cannot write what belongs to the action or the runner, and
 * everything it started dies with it: when the namespace's first process exits, the kernel kills
 * the rest.
 *
 * The first process in the namespace is a small root shell (SANDBOX_INIT): it lends the step its
 * folders (chown to the step's uid), bind-mounts what lives outside them, starts the command as the
 * step's uid, and gives the folders back when it ends. It watches its stdin, a pipe only this
 * process holds: at EOF (an abort here, or this process dying, even by SIGKILL) it sends the
 * command SIGTERM — so Terraform stops gracefully and releases its state lock — and after the grace
 * period kills whatever is left (`kill -1`, every process it may signal: only while it is PID 1 of
 * the namespace, where that means the step's processes; anywhere else it would mean the whole host).
 *
 * Available when this process is root, or where `sudo -n` works (GitHub-hosted runners); the
 * step's environment then reaches the child through `sudo -E`, never through its command line.
 * `SITE_DEPLOY_ISOLATION=off` turns it off (the run then says `isolation: none`).
 */





/**
 * The namespace's first process (root, PID 1 inside). Arguments: uid, owner (uid:gid to give the
 * folders back to), grace seconds, then actions until `--` (`lend P`, `bind SRC DST`,
 * `stage REAL STAGED`), then the command.
 */
const SANDBOX_INIT = `exec 3<&0 </dev/null
u=$1; o=$2; g=$3; shift 3
lent=""; staged=""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    lend) chown -R "$u:$u" "$2" || exit 125; lent="$lent
$2"; shift 2 ;;
    bind) mount --bind "$2" "$3" || exit 125; shift 3 ;;
    stage) if [ -f "$2" ]; then { cp "$2" "$3" && chown "$u:$u" "$3"; } || exit 125; fi; staged="$staged
$2
$3"; shift 3 ;;
    *) echo "site-deploy sandbox: unknown action $1" >&2; exit 125 ;;
  esac
done
shift
setpriv --reuid "$u" --regid "$u" --clear-groups --no-new-privs -- "$@" 3<&- &
c=$!
{ read -r _ <&3 || true; kill -TERM "$c" 2>/dev/null; sleep "$g"; [ "$$" = 1 ] && kill -KILL -1 2>/dev/null; } &
wait "$c"; s=$?
printf '%s\\n' "$staged" | { while read -r real; do
  [ -n "$real" ] || continue
  read -r st || break
  if [ -f "$st" ] && ! cmp -s "$st" "$real"; then
    cp "$st" "$real.sd-tmp" && chown "$o" "$real.sd-tmp" && chmod 600 "$real.sd-tmp" && mv -f "$real.sd-tmp" "$real"
  fi
done; }
printf '%s\\n' "$lent" | while read -r p; do [ -n "$p" ] && chown -R "$o" "$p"; done
exit "$s"`;
/** The argv that runs `command args` in the sandbox (nothing secret: the environment carries that). */
function sandboxArgv(sb, graceMs, command, args) {
    const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    const actions = [
        ...sb.lend.flatMap((p) => ['lend', p]),
        ...(sb.binds ?? []).flatMap(([from, to]) => ['bind', from, to]),
        ...(sb.stage ?? []).flatMap(([real, staged]) => ['stage', real, staged]),
    ];
    const grace = String(Math.max(0.1, graceMs / 1000));
    const argv = [
        ...[UNSHARE, '--pid', '--fork', '--mount-proc', '--kill-child', '--', '/bin/sh', '-c', SANDBOX_INIT],
        ...['site-deploy-sandbox', String(sb.uid), owner, grace, ...actions, '--', command, ...args],
    ];
    // Under sudo, PATH is reset by secure_path: the command is found on this process's PATH instead.
    if (sb.prefix.length === 0)
        return [argv[0], argv.slice(1)];
    return [sb.prefix[0], [...sb.prefix.slice(1), 'env', `PATH=${process.env.PATH ?? ''}`, ...argv]];
}
const UNSHARE = 'unshare';
/** The exit code the init uses when it could not set the sandbox up. */
const SANDBOX_SETUP_FAILED = 125;
const onPath = (name) => findExecutable(name) !== undefined;
let probed;
/**
 * Whether this process may sandbox steps: Linux, unshare and setpriv, root or passwordless sudo —
 * and a real trial (a container may refuse new namespaces). Asked once per process.
 */
function probeIsolation(env = process.env) {
    const off = (reason) => ({ isolation: 'none', reason, prefix: [] });
    if (env.SITE_DEPLOY_ISOLATION === 'off')
        return off('turned off (SITE_DEPLOY_ISOLATION=off)');
    if (probed)
        return probed;
    probed = probeOnce();
    return probed;
    function probeOnce() {
        if (process.platform !== 'linux')
            return off(`no Linux namespaces on ${process.platform}`);
        for (const tool of ['unshare', 'setpriv'])
            if (!onPath(tool))
                return off(`${tool} (util-linux) is not on PATH`);
        let prefix = [];
        if (process.getuid?.() !== 0) {
            if (!onPath('sudo') || (0,external_node_child_process_.spawnSync)('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0)
                return off('not root, and no passwordless sudo');
            prefix = ['sudo', '-n', '-E', '--'];
        }
        const uid = String(SANDBOX_UID_BASE);
        const argv = [
            ...prefix,
            ...[UNSHARE, '--pid', '--fork', '--mount-proc', '--kill-child', '--', 'setpriv'],
            ...['--reuid', uid, '--regid', uid, '--clear-groups', '--no-new-privs', '--', 'true'],
        ];
        const trial = (0,external_node_child_process_.spawnSync)(argv[0], argv.slice(1), {
            stdio: ['ignore', 'ignore', 'pipe'],
            timeout: 10_000,
        });
        if (trial.status !== 0) {
            const why = trial.stderr?.toString().trim().split('\n')[0] || `exit ${trial.status ?? trial.signal}`;
            return off(`new namespaces refused here: ${why}`);
        }
        return { isolation: 'namespace', prefix };
    }
}
/** Forgets the probe (tests that change the environment). */
function resetIsolationProbe() {
    probed = undefined;
}
/** First uid of the steps' own uids (`SITE_DEPLOY_SANDBOX_UID_BASE` moves it). */
const SANDBOX_UID_BASE = Number(process.env.SITE_DEPLOY_SANDBOX_UID_BASE) || 61000;
/** How many steps may run sandboxed at once on this host (max-parallel is at most 64 per run). */
const SANDBOX_UIDS = 256;
const taken = new Set();
/** Where a running step's uid is leased, so two site-deploy processes on one host never share one. */
function leaseDir() {
    const dir = (0,external_node_path_.join)((0,external_node_os_.tmpdir)(), 'site-deploy-sandbox', 'uids');
    (0,external_node_fs_.mkdirSync)(dir, { recursive: true, mode: 0o700 });
    const s = (0,external_node_fs_.lstatSync)(dir);
    if (!s.isDirectory() || s.uid !== (process.getuid?.() ?? 0))
        throw new Error(`${dir} is not a folder of this user: refusing to lease step uids there`);
    return dir;
}
/** An error's `code` (ENOENT, EEXIST...), when it has one. */
const codeOf = (e) => typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;
/** Whether process `pid` is running (a zombie counts as gone). */
function alive(pid) {
    if (!Number.isInteger(pid) || pid <= 0)
        return false;
    try {
        process.kill(pid, 0);
        return !((0,external_node_fs_.readFileSync)(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').startsWith('Z');
    }
    catch (e) {
        return codeOf(e) === 'EPERM';
    }
}
/** The start time of a process (field 22 of /proc/<pid>/stat), where Linux tells it. */
function startOf(pid) {
    try {
        const stat = (0,external_node_fs_.readFileSync)(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    }
    catch {
        return undefined;
    }
}
/** A lease's text: `<pid> <start time>` — the start time tells a reused pid from the holder. */
const leaseText = () => `${process.pid} ${startOf(process.pid) ?? ''}`.trim() + '\n';
/** The pid of a lease, and whether its process still runs (the same process: its start time too). */
function leaseHolder(text) {
    const [pid, start] = text.trim().split(/\s+/);
    const n = Number(pid);
    return {
        pid: n,
        alive: alive(n) && (start === undefined || startOf(n) === undefined || startOf(n) === start),
    };
}
/**
 * Leases `uid` for this process: the lease file holds its pid and start time. A lease whose process
 * is gone (killed, crashed; its pid reused by another process) is taken over — by one process only:
 * whoever creates `<uid>.takeover` first.
 */
function lease(dir, uid) {
    const file = (0,external_node_path_.join)(dir, String(uid));
    try {
        (0,external_node_fs_.writeFileSync)(file, leaseText(), { flag: 'wx', mode: 0o600 });
        return true;
    }
    catch (e) {
        if (codeOf(e) !== 'EEXIST')
            throw e;
    }
    const holder = leaseHolder((0,external_node_fs_.readFileSync)(file, 'utf8'));
    if (holder.pid === process.pid || holder.alive)
        return false;
    const mutex = `${file}.takeover`;
    try {
        (0,external_node_fs_.writeFileSync)(mutex, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    }
    catch {
        return false; // another process is taking it over
    }
    try {
        (0,external_node_fs_.writeFileSync)(file, leaseText(), { mode: 0o600 });
        return true;
    }
    finally {
        (0,external_node_fs_.rmSync)(mutex, { force: true });
    }
}
/**
 * A uid no other running step has — of this process, or of another site-deploy process on the host
 * (leased in a file); give it back with {@link releaseUid}.
 */
function takeUid(base = SANDBOX_UID_BASE) {
    const dir = leaseDir();
    for (let i = 1; i < SANDBOX_UIDS; i++) {
        const uid = base + i;
        if (!taken.has(uid) && lease(dir, uid)) {
            taken.add(uid);
            return uid;
        }
    }
    throw new Error(`more than ${SANDBOX_UIDS - 1} sandboxed steps at once on this host`);
}
function releaseUid(uid) {
    if (!taken.delete(uid))
        return;
    const file = (0,external_node_path_.join)(leaseDir(), String(uid));
    try {
        if (leaseHolder((0,external_node_fs_.readFileSync)(file, 'utf8')).pid === process.pid)
            (0,external_node_fs_.rmSync)(file, { force: true });
    }
    catch {
        // already gone
    }
}
/**
 * The fixed folder inside every step's namespace where folders outside its work folder are mounted
 * (`<tmp>/site-deploy-sandbox/{data,plugins,state}`): the same paths in every run, so a kept
 * Terraform data folder stays valid. Empty on the host; made once, and refused unless it is a real
 * folder of this process's user.
 */
function sandboxMounts() {
    const base = (0,external_node_path_.join)((0,external_node_os_.tmpdir)(), 'site-deploy-sandbox');
    const dirs = { data: (0,external_node_path_.join)(base, 'data'), plugins: (0,external_node_path_.join)(base, 'plugins'), state: (0,external_node_path_.join)(base, 'state') };
    for (const d of [base, ...Object.values(dirs)]) {
        (0,external_node_fs_.mkdirSync)(d, { recursive: true, mode: 0o755 });
        const s = (0,external_node_fs_.lstatSync)(d);
        if (!s.isDirectory() || s.uid !== (process.getuid?.() ?? 0))
            throw new Error(`${d} is not a folder of this user: refusing to mount step folders there`);
        // Every step's uid passes through (a umask may have made it owner-only).
        if ((s.mode & 0o777) !== 0o755)
            (0,external_node_fs_.chmodSync)(d, 0o755);
    }
    return dirs;
}

// EXTERNAL MODULE: ./src/core/graph/build.ts
var build = __webpack_require__(39768);
// EXTERNAL MODULE: ./src/adapters/aws/s3.ts
var aws_s3 = __webpack_require__(71706);
// EXTERNAL MODULE: ./src/adapters/tool-dir.ts
var tool_dir = __webpack_require__(94182);
;// CONCATENATED MODULE: ./src/adapters/run/group-log.ts
/**
 * Keeps the logs of modules running in parallel from interleaving: the first module to start
 * while nothing else is shown streams live; the others buffer and are flushed whole, each in its
 * own group, once they end and no live group is open. The sink redacts as it writes, so a
 * buffered log also loses the secrets learned while it waited.
 */
class GroupedLog {
    sink;
    live;
    queued = [];
    constructor(sink) {
        this.sink = sink;
    }
    /** Opens a module's log group. */
    open(title) {
        if (this.live === undefined) {
            this.live = title;
            this.sink.startGroup(title);
            return {
                write: (chunk) => this.sink.write(chunk),
                close: () => {
                    this.sink.endGroup();
                    this.live = undefined;
                    this.flush();
                },
            };
        }
        let buffer = '';
        return {
            write: (chunk) => {
                buffer += chunk;
            },
            close: () => {
                this.queued.push({ title, text: buffer });
                this.flush();
            },
        };
    }
    flush() {
        if (this.live !== undefined)
            return;
        for (const { title, text } of this.queued.splice(0)) {
            this.sink.startGroup(title);
            if (text)
                this.sink.write(text);
            this.sink.endGroup();
        }
    }
}

;// CONCATENATED MODULE: ./src/adapters/run/run-lock.ts
/** The S3 SDK's commands, loaded when a lock lives in S3. */
const s3Commands = () => Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(711)]).then(__webpack_require__.t.bind(__webpack_require__, 53711, 19));







/** The local lock file of a site × environment. */
function localLockPath(root, site, env) {
    return (0,external_node_path_.join)((0,tool_dir/* toolDir */.O)(root), 'locks', site, `${env}.lock`);
}
/** The start time of a process (field 22 of /proc/<pid>/stat), where Linux tells it. */
function processStart(pid) {
    try {
        const stat = (0,external_node_fs_.readFileSync)(`/proc/${pid}/stat`, 'utf8');
        // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    }
    catch {
        return undefined;
    }
}
/** Whether the holder's process still runs: only decidable on the same host. */
function holderAlive(h) {
    if (h.host !== (0,external_node_os_.hostname)())
        return undefined;
    try {
        process.kill(h.pid, 0);
    }
    catch (e) {
        if (e.code === 'ESRCH')
            return false;
    }
    // A zombie is a process that has ended, not yet reaped by its parent.
    if (processState(h.pid) === 'Z')
        return false;
    const start = processStart(h.pid);
    return !(h.pidStart && start && start !== h.pidStart);
}
/** The state letter of a process (field 3 of /proc/<pid>/stat: R, S, Z...), where Linux tells it. */
function processState(pid) {
    try {
        const stat = (0,external_node_fs_.readFileSync)(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    }
    catch {
        return undefined;
    }
}
/** One line describing a holder, for messages. */
function describeHolder(h) {
    if (!h)
        return 'an unknown holder (the lock has no readable record)';
    const run = h.run && h.run !== 'local' ? `, run ${h.run}` : '';
    return `${h.command} by ${h.user} on ${h.host} (pid ${h.pid}${run}), since ${h.started}`;
}
function parseHolder(text) {
    if (!text)
        return undefined;
    try {
        const h = JSON.parse(text);
        return typeof h.id === 'string' && typeof h.pid === 'number' ? h : undefined;
    }
    catch {
        return undefined;
    }
}
const errorCode = (e) => e?.code;
/** Creates the local lock file atomically with its content; the holder already there, or undefined when taken. */
async function tryLocal(path, holder) {
    await (0,promises_.mkdir)((0,external_node_path_.dirname)(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${holder.id}.tmp`;
    await (0,promises_.writeFile)(tmp, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600 });
    try {
        // link() fails with EEXIST atomically: no moment where the file exists without its holder.
        await (0,promises_.link)(tmp, path);
        return 'taken';
    }
    catch (e) {
        if (errorCode(e) !== 'EEXIST')
            throw e;
        return parseHolder(await (0,promises_.readFile)(path, 'utf8').catch(() => undefined)) ?? unknownHolder();
    }
    finally {
        await (0,promises_.unlink)(tmp).catch(() => undefined);
    }
}
function unknownHolder() {
    return {
        id: '',
        command: 'unknown',
        site: '',
        environment: '',
        host: '',
        pid: 0,
        user: 'unknown',
        started: 'an unknown time',
        run: 'local',
    };
}
async function tryS3(t, holder) {
    const { GetObjectCommand, PutObjectCommand } = await s3Commands();
    try {
        await t.client.send(new PutObjectCommand({
            Bucket: t.bucket,
            Key: t.key,
            Body: JSON.stringify(holder),
            ContentType: 'application/json',
            IfNoneMatch: '*',
        }));
        return 'taken';
    }
    catch (e) {
        const status = e.$metadata?.httpStatusCode;
        if (status !== 412 && status !== 409)
            throw lockStoreError(t, 'create', e);
    }
    try {
        const r = await t.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }));
        const found = parseHolder(await r.Body?.transformToString('utf8'));
        // Our own write, retried by the SDK after its answer was lost, is refused as a conflict.
        if (found?.id === holder.id)
            return 'taken';
        return found ?? unknownHolder();
    }
    catch (e) {
        // Released between our write and our read: try again on the next round.
        if (e.name === 'NoSuchKey')
            return unknownHolder();
        throw lockStoreError(t, 'read', e);
    }
}
function lockStoreError(t, what, e) {
    const name = e.name ?? 'Error';
    const message = e instanceof Error ? e.message : String(e);
    return new errors/* SiteDeployError */.PB('locked', `could not ${what} the run lock s3://${t.bucket}/${t.key}: ${name}: ${message} — the role needs s3:PutObject, s3:GetObject and s3:DeleteObject on that object`, { cause: e });
}
function forceUnlockHint(site, env) {
    return `site-deploy force-unlock --site ${site} --env ${env}`;
}
/** This run as a lock's holder. */
function thisHolder(o, now) {
    return {
        id: (0,external_node_crypto_.randomUUID)(),
        command: o.command,
        site: o.site,
        environment: o.environment,
        host: (0,external_node_os_.hostname)(),
        pid: process.pid,
        pidStart: processStart(process.pid),
        user: safeUser(),
        started: new Date(now()).toISOString(),
        run: o.run ?? 'local',
        ...(o.runId ? { runId: o.runId.id, attempt: o.runId.attempt } : {}),
    };
}
/** Waits for a held lock with growing pauses; tells once who holds it; throws past the deadline. */
function lockWaiter(o, now) {
    const sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const deadline = now() + o.timeoutMs;
    let told = false;
    let delay = 200;
    return async (other, where) => {
        if (now() >= deadline) {
            throw new errors/* SiteDeployError */.PB('locked', `${o.site}/${o.environment} is locked by ${describeHolder(other)} (${where}); gave up after waiting ${Math.round(o.timeoutMs / 1000)}s (--lock-timeout / lock-timeout). ` +
                `Run again when it ends; if that run is gone, clear the lock with \`${forceUnlockHint(o.site, o.environment)}\`.`);
        }
        if (!told)
            o.onWait?.(other, where);
        told = true;
        await sleep(Math.min(delay, Math.max(0, deadline - now())));
        delay = Math.min(delay * 2, 2000);
    };
}
/**
 * The local lock file, taken or waited for. A holder whose process is provably gone is removed —
 * under `<lock>.takeover`, which one taker at a time creates, and only while the lock still names
 * that holder — and the lock taken again like any free one; returns that holder.
 */
async function takeLocal(path, holder, wait) {
    let recovered;
    for (;;) {
        const got = await tryLocal(path, holder);
        if (got === 'taken')
            return recovered;
        if (holderAlive(got) === false && got.id !== '') {
            if (await removeDeadLock(path, got, holder))
                recovered = got;
            else
                await wait(got, path); // another run is taking it over
            continue;
        }
        await wait(got, path);
    }
}
/** Removes the lock file if it still names `dead`, holding the takeover mutex; whether it did. */
async function removeDeadLock(path, dead, taker) {
    const mutex = `${path}.takeover`;
    const mine = await tryLocal(mutex, taker);
    if (mine !== 'taken') {
        // A taker killed mid-takeover leaves its mutex: gone with it, it is cleared for the next one.
        if (holderAlive(mine) === false)
            await (0,promises_.unlink)(mutex).catch(() => undefined);
        return false;
    }
    try {
        const now = parseHolder(await (0,promises_.readFile)(path, 'utf8').catch(() => undefined));
        if (now?.id !== dead.id)
            return false;
        await (0,promises_.unlink)(path);
        return true;
    }
    finally {
        await (0,promises_.unlink)(mutex).catch(() => undefined);
    }
}
/** The S3 lock object, taken or waited for. */
async function takeS3(s3, holder, wait) {
    for (;;) {
        const got = await tryS3(s3, holder);
        if (got === 'taken')
            return;
        await wait(got, `s3://${s3.bucket}/${s3.key}`);
    }
}
/** Releases what this run holds: the S3 object (when taken) and the local file (when still ours). */
function releaser(o, path, holder, s3Held) {
    return async () => {
        const removed = [];
        const s3 = o.s3;
        if (s3 && s3Held.held) {
            s3Held.held = false;
            const { DeleteObjectCommand } = await s3Commands();
            await s3.client
                .send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3.key }))
                .then(() => removed.push(`s3://${s3.bucket}/${s3.key}`))
                .catch(() => undefined);
        }
        const mine = parseHolder(await (0,promises_.readFile)(path, 'utf8').catch(() => undefined));
        if (mine?.id === holder.id) {
            await (0,promises_.unlink)(path).catch(() => undefined);
            removed.push(path);
        }
        return removed;
    };
}
/**
 * Takes the run lock of a site × environment, waiting up to `timeoutMs` while another run holds it.
 * Throws SiteDeployError('locked') naming the holder when it cannot.
 */
async function acquireRunLock(o) {
    const now = o.now ?? Date.now;
    const holder = thisHolder(o, now);
    const path = localLockPath(o.root, o.site, o.environment);
    const wait = lockWaiter(o, now);
    const recovered = await takeLocal(path, holder, wait);
    const s3Held = { held: false };
    const release = releaser(o, path, holder, s3Held);
    if (o.s3) {
        try {
            await takeS3(o.s3, holder, wait);
            s3Held.held = true;
        }
        catch (e) {
            await release();
            throw e;
        }
    }
    return { holder, release, ...(recovered ? { recovered } : {}) };
}
/** Removes a site × environment's run lock whoever holds it; returns what was removed and who held it. */
async function forceUnlock(root, site, env, s3) {
    const removed = [];
    const holders = [];
    const path = localLockPath(root, site, env);
    const text = await (0,promises_.readFile)(path, 'utf8').catch(() => undefined);
    if (text !== undefined) {
        holders.push(parseHolder(text));
        await (0,promises_.unlink)(path);
        removed.push(path);
    }
    if (s3) {
        const { DeleteObjectCommand, GetObjectCommand } = await s3Commands();
        try {
            const r = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
            holders.push(parseHolder(await r.Body?.transformToString('utf8')));
            await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
            removed.push(`s3://${s3.bucket}/${s3.key}`);
        }
        catch (e) {
            if (e.name !== 'NoSuchKey')
                throw lockStoreError(s3, 'remove', e);
        }
    }
    return { removed, holders };
}
function safeUser() {
    try {
        return (0,external_node_os_.userInfo)().username;
    }
    catch {
        return process.env.USER ?? 'unknown';
    }
}

// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(37067);
// EXTERNAL MODULE: external "node:string_decoder"
var external_node_string_decoder_ = __webpack_require__(46193);
;// CONCATENATED MODULE: ./src/adapters/engines/process.ts







const HEAD_LINES = 500;
const TAIL_LINES = 20;
/** Once the child exited, how long its stdio may stay open (a backgrounded grandchild can hold it forever). */
const CLOSE_WAIT_MS = 2000;
let pdeathsig;
/**
 * `setpriv --pdeathsig TERM` (util-linux; on GitHub's Ubuntu runners too): the kernel sends the
 * child SIGTERM when this process dies, even by SIGKILL or the OOM killer, so Terraform stops
 * gracefully instead of applying on unsupervised. Null where it does not exist (not Linux).
 */
function parentDeathWrapper() {
    if (pdeathsig === undefined) {
        pdeathsig = null;
        if (process.platform === 'linux' && process.env.SITE_DEPLOY_NO_PDEATHSIG !== '1') {
            pdeathsig = findExecutable('setpriv') ?? null;
        }
    }
    return pdeathsig;
}
/** After an abort, how long a child gets before its group is killed, unless the caller says. */
const DEFAULT_GRACE_MS = 20_000;
/**
 * Waits for EOF on stdin, then for the leader ($1) to exit (at most $2 tenths of a second), then
 * kills its group. A leader whose parent died is a zombie until the host's init reaps it, which
 * `kill -0` still counts as running: on Linux its state in /proc says it is gone.
 */
const REAPER = `read -r _ || true
alive() {
  if [ -r "/proc/$1/stat" ]; then
    s=$(sed -n 's/^.*) \\(.\\).*$/\\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$s" ] && [ "$s" != Z ]
  else kill -0 "$1" 2>/dev/null; fi
}
i=0
while alive "$1" && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
kill -s KILL -- "-$1" 2>/dev/null
exit 0`;
/** The name of signal `n` (SIGTERM for 15). */
function signalName(n) {
    const isSignal = (name) => name in external_node_os_.constants.signals;
    return Object.entries(external_node_os_.constants.signals)
        .filter(([, num]) => num === n)
        .map(([name]) => name)
        .find(isSignal);
}
/** How setpriv reports that it could not exec the command (exit 126/127). */
const EXEC_FAILED = /^setpriv: failed to execute .*: (No such file or directory|Permission denied)$/;
/** Splits a byte stream into whole lines, so log readers never see half a line. */
class LineSplitter {
    onLines;
    decoder = new external_node_string_decoder_.StringDecoder('utf8');
    rest = '';
    constructor(onLines) {
        this.onLines = onLines;
    }
    push(data) {
        const text = this.rest + this.decoder.write(data);
        const cut = text.lastIndexOf('\n');
        if (cut < 0) {
            this.rest = text;
            return;
        }
        this.rest = text.slice(cut + 1);
        this.onLines(text.slice(0, cut).split('\n'));
    }
    end() {
        const text = this.rest + this.decoder.end();
        this.rest = '';
        if (text)
            this.onLines([text]);
    }
}
/** How often a spooled output file is read while its process runs. */
const SPOOL_POLL_MS = 20;
let spoolSeq = 0;
/**
 * Follows a file a child writes its output into: everything written so far, in order, each
 * time it is read. A file, unlike a pipe, outlives this process — a child told to stop after we
 * died (SIGTERM from the kernel) can still print its last lines and exit cleanly instead of dying
 * of SIGPIPE with its state lock held.
 */
class SpoolReader {
    path;
    onData;
    fd;
    buf = Buffer.allocUnsafe(64 * 1024);
    done = false;
    constructor(path, onData) {
        this.path = path;
        this.onData = onData;
        this.fd = (0,external_node_fs_.openSync)(path, 'r');
    }
    /** Reads what is new; at most `maxBytes` at a time so a flood never stalls the event loop. */
    read(maxBytes = 4 * 1024 * 1024) {
        if (this.done)
            return;
        let total = 0;
        for (;;) {
            const n = (0,external_node_fs_.readSync)(this.fd, this.buf, 0, this.buf.length, null);
            if (n <= 0)
                return;
            this.onData(Buffer.from(this.buf.subarray(0, n)));
            total += n;
            if (total >= maxBytes)
                return;
        }
    }
    /** Reads the rest, closes and removes the file (it may hold what a module printed). */
    finish() {
        this.read(Number.POSITIVE_INFINITY);
        this.done = true;
        (0,external_node_fs_.closeSync)(this.fd);
        (0,external_node_fs_.rmSync)(this.path, { force: true });
    }
}
/**
 * Runs one command from an argv array (never through a shell) in its own process group.
 * On abort it sends SIGTERM to the command only — Terraform then stops gracefully and
 * releases its state lock — and SIGKILLs the whole group after `killGraceMs`. Its own group
 * keeps terminal and runner signals from reaching the child twice (Terraform exits at once,
 * lock held, on a second interrupt). With `spoolDir`, output goes through files there rather
 * than pipes, and the child is started under `setpriv --pdeathsig TERM`: if this process dies
 * outright, the child is told to stop and can still finish its output.
 */
function runProcess(opts) {
    if (opts.signal?.aborted)
        return Promise.resolve({ ...emptyResult(), cancelled: true });
    return new ProcessRun(opts).start();
}
function emptyResult() {
    return { exitCode: null, exitSignal: null, cancelled: false, stdout: '', stderrHead: [], stderrTail: [] };
}
/** Where a child's output goes: descriptors it is started with, and the spool files behind them. */
class ChildOutputs {
    fds = [];
    stdoutPath;
    stderrPath;
    stdoutFd;
    stderrFd;
    constructor(opts) {
        const spool = opts.spoolDir;
        const seq = ++spoolSeq;
        const spoolPath = (dir, what) => (0,external_node_path_.join)(dir, `.site-deploy-${what}-${process.pid}-${seq}.log`);
        if (opts.stdoutFile !== undefined)
            this.stdoutFd = this.open(opts.stdoutFile);
        else if (spool !== undefined)
            this.stdoutFd = this.open((this.stdoutPath = spoolPath(spool, 'out')));
        if (spool !== undefined)
            this.stderrFd = this.open((this.stderrPath = spoolPath(spool, 'err')));
    }
    open(path) {
        const fd = (0,external_node_fs_.openSync)(path, 'w', 0o600);
        this.fds.push(fd);
        return fd;
    }
    /** The child holds its own copies of the descriptors now (or never started). */
    closeOurs() {
        for (const fd of this.fds)
            (0,external_node_fs_.closeSync)(fd);
    }
    removeSpools() {
        for (const p of [this.stdoutPath, this.stderrPath])
            if (p)
                (0,external_node_fs_.rmSync)(p, { force: true });
    }
}
/** One child process from spawn to its result: output split into lines, abort, kill, settle. */
class ProcessRun {
    opts;
    result = emptyResult();
    outputs;
    wrapper;
    /** Something between us and the command reports a failed exec on stderr (setpriv). */
    execReported;
    reaper;
    stdoutChunks = [];
    readers = [];
    stdoutLines;
    stderrLines;
    firstStderr = true;
    child;
    poll;
    killTimer;
    closeTimer;
    settled = false;
    resolve = () => undefined;
    constructor(opts) {
        this.opts = opts;
        this.outputs = new ChildOutputs(opts);
        this.wrapper = opts.spoolDir !== undefined && !opts.sandbox ? parentDeathWrapper() : null;
        this.execReported = this.wrapper !== null || opts.sandbox !== undefined;
        this.stdoutLines = new LineSplitter((lines) => this.logLines(lines));
        this.stderrLines = new LineSplitter((lines) => this.onStderrLines(lines));
    }
    start() {
        return new Promise((resolve) => {
            this.resolve = resolve;
            if (!this.spawnChild())
                return;
            this.outputs.closeOurs();
            this.startReaper();
            this.follow();
            this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
            this.child.once('error', (e) => {
                // 'error' without a pid means it never started; 'close' may not follow.
                if (this.child.pid === undefined) {
                    this.result.spawnError = e;
                    this.settle();
                }
            });
            this.child.once('exit', (code, sig) => this.onExit(code, sig));
            this.child.once('close', () => this.settle());
        });
    }
    /** Starts the child; false (and the result resolved) when spawn refused its arguments. */
    spawnChild() {
        const { opts, outputs, wrapper } = this;
        try {
            // Through the wrapper the command is exec'd in place: same pid, same process group.
            const [file, argv] = opts.sandbox
                ? sandboxArgv(opts.sandbox, opts.killGraceMs ?? DEFAULT_GRACE_MS, opts.command, opts.args)
                : wrapper
                    ? [wrapper, ['--pdeathsig', 'TERM', '--', opts.command, ...opts.args]]
                    : [opts.command, opts.args];
            this.child = (0,external_node_child_process_.spawn)(file, argv, {
                cwd: opts.cwd,
                env: opts.env,
                detached: true,
                // The sandbox's init stops the command when this pipe closes (abort, or this process dying).
                stdio: [opts.sandbox ? 'pipe' : 'ignore', outputs.stdoutFd ?? 'pipe', outputs.stderrFd ?? 'pipe'],
            });
            return true;
        }
        catch (e) {
            // spawn throws synchronously only for malformed arguments; report it like a failed start.
            outputs.closeOurs();
            outputs.removeSpools();
            this.resolve({ ...this.result, spawnError: e });
            return false;
        }
    }
    logLines(lines) {
        if (this.opts.log && lines.length)
            this.opts.log(lines.join('\n') + '\n');
    }
    onStderrLines(all) {
        let lines = all;
        const first = lines[0];
        if (this.execReported && this.firstStderr && first !== undefined && EXEC_FAILED.test(first)) {
            // The command never started: report it as the spawn failure it is, not as its output.
            const denied = first.endsWith('Permission denied');
            this.result.spawnError = Object.assign(new Error(first.replace(/^setpriv: /, '')), {
                code: denied ? 'EACCES' : 'ENOENT',
            });
            lines = lines.slice(1);
        }
        this.firstStderr = false;
        const { stderrHead, stderrTail } = this.result;
        for (const l of lines) {
            if (stderrHead.length < HEAD_LINES)
                stderrHead.push(l);
            stderrTail.push(l);
            if (stderrTail.length > TAIL_LINES)
                stderrTail.shift();
        }
        this.logLines(lines);
    }
    onStdout = (d) => {
        if (this.opts.captureStdout)
            this.stdoutChunks.push(d);
        if (this.opts.logStdout !== false)
            this.stdoutLines.push(d);
    };
    onStderr = (d) => this.stderrLines.push(d);
    /** Reads the child's pipes, or polls its spool files. */
    follow() {
        const { stdoutPath, stderrPath } = this.outputs;
        if (stdoutPath)
            this.readers.push(new SpoolReader(stdoutPath, this.onStdout));
        if (stderrPath)
            this.readers.push(new SpoolReader(stderrPath, this.onStderr));
        this.child.stdout?.on('data', this.onStdout);
        this.child.stderr?.on('data', this.onStderr);
        if (this.readers.length > 0)
            this.poll = setInterval(() => {
                for (const r of this.readers)
                    r.read();
            }, SPOOL_POLL_MS);
    }
    killGroup = () => {
        if (this.child.pid === undefined)
            return;
        try {
            process.kill(-this.child.pid, 'SIGKILL');
        }
        catch {
            // ESRCH: the group is already gone.
        }
    };
    onAbort = () => {
        this.result.cancelled = true;
        // Sandboxed: closing the init's stdin makes it send the command SIGTERM (it runs as another uid).
        if (this.opts.sandbox)
            this.child.stdin?.end();
        else
            this.child.kill('SIGTERM');
        this.killTimer = setTimeout(this.killGroup, this.opts.killGraceMs ?? DEFAULT_GRACE_MS);
    };
    /**
     * Unsandboxed step processes: a detached watcher that, once this process is gone (even by
     * SIGKILL: its stdin pipe closes) or the child has exited, gives the child the grace period and
     * then kills its whole process group — `pdeathsig` reaches only the direct child.
     */
    startReaper() {
        if (this.opts.sandbox || this.opts.spoolDir === undefined || this.child.pid === undefined)
            return;
        const tenths = String(Math.ceil((this.opts.killGraceMs ?? DEFAULT_GRACE_MS) / 100));
        try {
            this.reaper = (0,external_node_child_process_.spawn)('/bin/sh', ['-c', REAPER, 'site-deploy-reaper', String(this.child.pid), tenths], {
                detached: true,
                stdio: ['pipe', 'ignore', 'ignore'],
            });
            this.reaper.on('error', () => undefined);
            this.reaper.stdin?.on('error', () => undefined);
            this.reaper.unref();
        }
        catch {
            // No shell: the pdeathsig wrapper alone.
        }
    }
    onExit(code, sig) {
        const byInit = this.opts.sandbox && code !== null && code > 128 && code < 128 + 65;
        // The sandbox's init reports a command killed by a signal as 128 + its number, as shells do.
        const signal = byInit ? signalName(code - 128) : undefined;
        this.result.exitCode = signal ? null : code;
        this.result.exitSignal = signal ?? sig;
        // Whatever the step left in its group goes now (the reaper kills it once the leader is gone).
        this.reaper?.stdin?.end();
        // Cancelled: reap what the tool left behind (a provisioner's `sleep` outlives its shell).
        if (this.result.cancelled)
            this.killGroup();
        // Spooled output is complete at exit, whatever a backgrounded grandchild still holds open.
        if (this.readers.length > 0 && !this.child.stdout && !this.child.stderr)
            return this.settle();
        this.closeTimer = setTimeout(() => {
            this.child.stdout?.destroy();
            this.child.stderr?.destroy();
            this.settle();
        }, CLOSE_WAIT_MS);
    }
    settle() {
        if (this.settled)
            return;
        this.settled = true;
        clearTimeout(this.killTimer);
        clearTimeout(this.closeTimer);
        clearInterval(this.poll);
        this.opts.signal?.removeEventListener('abort', this.onAbort);
        for (const r of this.readers)
            r.finish();
        this.stdoutLines.end();
        this.stderrLines.end();
        const result = this.result;
        if (this.opts.captureStdout)
            result.stdout = Buffer.concat(this.stdoutChunks).toString('utf8');
        if (result.spawnError)
            result.exitCode = null;
        this.resolve(result);
    }
}
/**
 * What a step's child never inherits from this process — the one list (childEnvWith in
 * aws/credential-server.ts uses it too). The runner's file-command files (a module could set
 * variables and PATH of later steps, or forge outputs), action inputs (github-token among them),
 * every Actions and GitHub token (with the OIDC request token a module could mint its own
 * identity token and assume the environment's whole role), and ambient AWS identity: a step gets
 * exactly the credentials its request carries.
 */
const STRIPPED_ENV = [
    /^GITHUB_(ENV|PATH|OUTPUT|STATE|STEP_SUMMARY)$/,
    /^INPUT_/i,
    /^ACTIONS_/,
    /^(GITHUB|GH|GH_ENTERPRISE|GITHUB_ENTERPRISE)_TOKEN$/,
    /^(GITHUB|GH)_[A-Z0-9_]*(TOKEN|SECRET|PASSWORD|KEY)$/,
    /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|CREDENTIAL_EXPIRATION)$/,
    /^AWS_(PROFILE|DEFAULT_PROFILE|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE)$/,
    /^AWS_CONTAINER_(CREDENTIALS_FULL_URI|CREDENTIALS_RELATIVE_URI|AUTHORIZATION_TOKEN|AUTHORIZATION_TOKEN_FILE)$/,
];
/** Whether a variable of this process must not reach a step's child. */
function process_strippedFromChild(name) {
    return STRIPPED_ENV.some((re) => re.test(name));
}
/**
 * The environment for a step's child: this process's environment without action inputs,
 * runner tokens and ambient AWS credentials, then `extra` on top. Credentials reach a step
 * only through `extra`.
 */
function childEnv(extra, base = process.env) {
    const env = {};
    for (const [k, v] of Object.entries(base)) {
        if (v !== undefined && !process_strippedFromChild(k))
            env[k] = v;
    }
    return { ...env, ...extra };
}
/**
 * Terraform's environment on top of `childEnv`: no prompts, automation output, and a CLI
 * config that exists (a TF_CLI_CONFIG_FILE naming a missing file makes every command warn).
 */
function terraformEnv(extra, base = process.env) {
    const env = childEnv({}, base);
    env.TF_IN_AUTOMATION = '1';
    env.TF_INPUT = '0';
    const cfg = env.TF_CLI_CONFIG_FILE;
    if (cfg !== undefined && (cfg === '' || !(0,external_node_fs_.existsSync)(cfg)))
        env.TF_CLI_CONFIG_FILE = '/dev/null';
    return { ...env, ...extra };
}

;// CONCATENATED MODULE: ./src/adapters/aws/credential-server.ts
/**
 * Serves one step's credentials to its child process over the container-credentials protocol
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`), which the AWS SDKs,
 * the AWS CLI and Terraform read and re-read before expiry — so a step may outlive its session.
 * Loopback only, a random path and a per-step random token; nothing touches disk or GITHUB_ENV.
 */



/** Variables that would shadow or redirect the step's credentials in a child; `childEnvWith` removes them. */
const AMBIENT_CREDENTIAL_VARS = (/* unused pure expression or super */ null && ([
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_SECURITY_TOKEN',
    'AWS_CREDENTIAL_EXPIRATION',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_ROLE_ARN',
    'AWS_ROLE_SESSION_NAME',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONTAINER_AUTHORIZATION_TOKEN',
    'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    'ACTIONS_ID_TOKEN_REQUEST_URL',
]));
/**
 * A child environment: `base` without any ambient credential variable (the env provider would
 * otherwise win over the container endpoint, and the OIDC request token could mint tokens) and
 * without anything else of the runner a step must not see (`strippedFromChild`), plus `step`.
 */
function childEnvWith(base, step = {}) {
    const out = {};
    const drop = new Set(AMBIENT_CREDENTIAL_VARS);
    for (const [k, v] of Object.entries(base))
        if (v !== undefined && !drop.has(k) && !strippedFromChild(k))
            out[k] = v;
    return { ...out, ...step };
}
function tokenMatches(given, expected) {
    if (given === undefined)
        return false;
    const g = Buffer.from(given, 'utf8');
    return g.length === expected.length && (0,external_node_crypto_.timingSafeEqual)(g, expected);
}
function body(c) {
    const doc = {
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        // RFC 3339 without milliseconds, as ECS serves it (`2026-01-01T00:00:00Z`).
        Expiration: c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    if (c.accountId)
        doc.AccountId = c.accountId;
    return JSON.stringify(doc);
}
/** The step's credentials, cached and re-assumed (once, however many ask at a time) near expiry. */
class CredentialCache {
    options;
    fetches = 0;
    cached;
    inflight;
    refreshBeforeMs;
    now;
    log;
    constructor(options) {
        this.options = options;
        this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
        this.now = options.now ?? Date.now;
        this.log = options.log ?? (() => undefined);
    }
    /** Credentials valid at least `refreshBeforeMs` longer. */
    current() {
        const cached = this.cached;
        if (cached && cached.expiration.getTime() - this.now() > this.refreshBeforeMs)
            return Promise.resolve(cached);
        // Concurrent requests near expiry share one re-assume.
        this.inflight ??= this.assume();
        return this.inflight;
    }
    async assume() {
        try {
            this.fetches++;
            this.log(this.cached
                ? 'credential server: credentials near expiry; re-assuming'
                : 'credential server: assuming');
            this.cached = await this.options.provider({ minRemainingMs: this.refreshBeforeMs });
            return this.cached;
        }
        finally {
            this.inflight = undefined;
        }
    }
}
/** Env mode: the credentials fetched once, handed to the child as AWS_ACCESS_KEY_ID/…; nothing listens. */
async function envCredentials(cache, regionVars) {
    const c = await cache.current();
    return {
        mode: 'env',
        url: '',
        env: () => ({
            AWS_ACCESS_KEY_ID: c.accessKeyId,
            AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
            AWS_SESSION_TOKEN: c.sessionToken,
            ...regionVars,
        }),
        credentials: () => Promise.resolve(c),
        get fetches() {
            return cache.fetches;
        },
        close: async () => undefined,
    };
}
/** Answers the child's credential requests: only on `path` with the step's token, only GET. */
function credentialHandler(path, expected, cache, log) {
    return async (req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        // Wrong path and wrong token look the same from outside: 401, empty body.
        if (url.pathname !== path || !tokenMatches(req.headers.authorization, expected)) {
            log(`credential server: refused ${req.method ?? '?'} request (${url.pathname !== path ? 'path' : 'token'})`);
            res.writeHead(401).end();
            return;
        }
        if (req.method !== 'GET') {
            res.writeHead(405, { Allow: 'GET' }).end();
            return;
        }
        try {
            const c = await cache.current();
            res.writeHead(200, { 'Content-Type': 'application/json' }).end(body(c));
        }
        catch (e) {
            // The child learns only that credentials are unavailable; the reason goes to our own log.
            log(`credential server: could not get credentials: ${e instanceof Error ? e.message : String(e)}`);
            res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({
                Code: 'CredentialsUnavailable',
                Message: 'site-deploy could not refresh this step’s credentials',
            }));
        }
    };
}
/** An HTTP server on 127.0.0.1 and a random port; its port once it listens. */
async function listenLoopback(handle) {
    const server = (0,external_node_http_.createServer)((req, res) => {
        handle(req, res).catch(() => {
            if (!res.headersSent)
                res.writeHead(500).end();
        });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string')
        throw new Error('the credential server has no TCP port');
    return { server, port: address.port };
}
/**
 * Starts the step's credential endpoint (server mode: 127.0.0.1, random port, random path, random
 * token; env mode: fetches once and hands out AWS_ACCESS_KEY_ID/… instead).
 */
async function startCredentialServer(options) {
    const mode = options.mode ?? 'server';
    const log = options.log ?? (() => undefined);
    const regionVars = { AWS_REGION: options.region, AWS_DEFAULT_REGION: options.region };
    const cache = new CredentialCache(options);
    if (mode === 'env')
        return envCredentials(cache, regionVars);
    const token = (0,external_node_crypto_.randomBytes)(32).toString('base64url');
    options.mask?.(token);
    const path = `/creds/${(0,external_node_crypto_.randomBytes)(16).toString('hex')}`;
    const { server, port } = await listenLoopback(credentialHandler(path, Buffer.from(token, 'utf8'), cache, log));
    const url = `http://127.0.0.1:${port}${path}`;
    return {
        mode,
        url,
        env: () => ({
            AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
            AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
            ...regionVars,
        }),
        credentials: () => cache.current(),
        get fetches() {
            return cache.fetches;
        },
        close: () => new Promise((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}

;// CONCATENATED MODULE: ./src/adapters/run/sessions.ts

/** Who a module step is, for its session policy, name and tags. */
function stepIdentity(graph, node, backend, purpose, ctx) {
    return {
        site: graph.site.name,
        environment: graph.environment.name,
        module: node.name,
        services: node.manifest?.services ?? [],
        stateObject: backend.kind === 's3' ? { bucket: backend.bucket, key: backend.key } : undefined,
        repository: ctx.repository,
        runId: ctx.runId,
        actor: ctx.actor,
        purpose,
    };
}
/** The module's session for `purpose`, or undefined when it needs none (no services, local state). */
function stepSession(c, graph, node, backend, purpose) {
    if (!graph.credentials)
        return Promise.resolve(undefined);
    return c.broker.get(graph.credentials, stepIdentity(graph, node, backend, purpose, c.ctx));
}
/** Starts serving the step's session on a loopback endpoint (re-assumed before it expires). */
async function serveStepCredentials(c, graph, node, backend, purpose) {
    const target = graph.credentials;
    if (!target)
        return undefined;
    const identity = stepIdentity(graph, node, backend, purpose, c.ctx);
    const session = await c.broker.get(target, identity);
    if (!session)
        return undefined;
    const server = await startCredentialServer({
        provider: c.broker.provider(target, identity),
        region: target.region,
        mode: c.mode,
        mask: c.mask,
    });
    return { session, env: server.env(), credentials: () => server.credentials(), close: () => server.close() };
}

;// CONCATENATED MODULE: ./src/adapters/run/state.ts
/**
 * A module's Terraform state, as the runner reads it at plan time: where it lives (local file or
 * S3 object, SPEC §5) and its outputs. Only a missing state means "never applied"; denied,
 * throttled or unreachable is an error naming the object, never a quiet fall-back to mocks.
 */






/** Local state path of a module (SPEC §5): `<root>/.site-deploy/state/<site>/<env>/<module>.tfstate`. */
function localStatePath(root, site, env, module) {
    return (0,external_node_path_.join)((0,tool_dir/* toolDir */.O)(root), 'state', site, env, `${module}.tfstate`);
}
/** The state backend of one module step. */
function backendFor(root, graph, node) {
    const s3 = (0,build/* s3StateObject */.Tk)(graph, node.name);
    if (s3)
        return { kind: 's3', ...s3 };
    return { kind: 'local', path: localStatePath(root, graph.site.name, graph.environment.name, node.name) };
}
/** Outputs of a Terraform state document (`outputs: { name: { value, sensitive } }`). */
function stateDocumentOutputs(text, what = 'state') {
    let doc;
    try {
        doc = JSON.parse(text);
    }
    catch {
        throw new Error(`${what} is not valid JSON (a Terraform state file was expected)`);
    }
    if (!doc.outputs || Object.keys(doc.outputs).length === 0)
        return undefined;
    return Object.fromEntries(Object.entries(doc.outputs).map(([k, v]) => [k, { value: v.value, sensitive: v.sensitive === true }]));
}
/** An S3 SDK error as `Code (HTTP n): message after N attempts`. */
function s3ErrorText(e) {
    const err = e;
    const status = err.$metadata?.httpStatusCode;
    const attempts = err.$metadata?.attempts;
    return `${err.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}${attempts && attempts > 1 ? ` after ${attempts} attempts` : ''}`;
}
/**
 * The outputs in a module's state, or undefined when it has no state yet. `credentials`: the
 * module's plan session (S3); `env`: endpoints and static keys for the S3 client.
 */
async function readStateOutputs(module, backend, env, credentials) {
    if (backend.kind === 'local') {
        let text;
        try {
            text = await (0,promises_.readFile)(backend.path, 'utf8');
        }
        catch (e) {
            if (e.code === 'ENOENT')
                return undefined; // never applied
            throw new Error(`could not read the state of module "${module}" (${backend.path}): ${e instanceof Error ? e.message : String(e)}`);
        }
        return stateDocumentOutputs(text, `the state of module "${module}" (${backend.path})`);
    }
    const where = `s3://${backend.bucket}/${backend.key}`;
    const s3 = await (0,aws_s3.s3Client)(backend.region, env, credentials);
    const { GetObjectCommand } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(711)]).then(__webpack_require__.t.bind(__webpack_require__, 53711, 19));
    let text;
    try {
        const r = await s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: backend.key }));
        text = await r.Body?.transformToString('utf8');
    }
    catch (e) {
        if (e.name === 'NoSuchKey')
            return undefined;
        throw new Error(`could not read the state of module "${module}" (${where}): ${s3ErrorText(e)}`);
    }
    finally {
        s3.destroy();
    }
    return text ? stateDocumentOutputs(text, `the state of module "${module}" (${where})`) : undefined;
}
/**
 * A module's outputs as its state holds them before this run, read with its plan session (the
 * least the read needs) when steps get sessions; undefined when it has no state yet.
 */
async function moduleStateOutputs(root, graph, node, env, sessions) {
    const backend = backendFor(root, graph, node);
    // A local state is a file on this machine: no session is needed to read it.
    const session = backend.kind === 's3' && sessions ? await stepSession(sessions, graph, node, backend, 'plan') : undefined;
    return readStateOutputs(node.name, backend, env, session?.credentials);
}

// EXTERNAL MODULE: ./src/core/plan/summary.ts
var plan_summary = __webpack_require__(51267);
;// CONCATENATED MODULE: ./src/core/plan/outputs.ts
/**
 * A catalog manifest's `outputs:` held against the Terraform code: the plan's configuration lists
 * the outputs the root module really declares. An output the manifest promises but the code lacks
 * would otherwise fail later, at a downstream module, with no hint at the manifest.
 */
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Outputs the root module of a `terraform show -json` plan declares, or undefined when the plan does not say. */
function configuredOutputs(plan) {
    const root = isObj(plan) && isObj(plan.configuration) ? plan.configuration.root_module : undefined;
    if (!isObj(root))
        return undefined;
    return isObj(root.outputs) ? Object.keys(root.outputs) : [];
}
/** The manifest's outputs the code does not declare, in the manifest's order. */
function missingOutputs(declared, plan) {
    const configured = configuredOutputs(plan);
    if (!declared || configured === undefined)
        return [];
    const have = new Set(configured);
    return declared.filter((o) => !have.has(o));
}

// EXTERNAL MODULE: ./src/core/plan/digest.ts
var digest = __webpack_require__(53719);
// EXTERNAL MODULE: ./src/core/binding.ts
var binding = __webpack_require__(16538);
// EXTERNAL MODULE: ./src/core/report/handoff.ts
var handoff = __webpack_require__(96896);
;// CONCATENATED MODULE: ./src/core/plan/sensitive.ts
/**
 * The values a `terraform show -json` plan holds in plaintext although Terraform marks them
 * sensitive. Only the `*_sensitive` / `sensitive_values` trees, outputs' `sensitive: true` and the
 * configuration's sensitive variables say which they are; every one is registered with the
 * redaction before anything of the step is reported.
 */
const sensitive_isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
/** The parts of `value` that a sensitivity tree (`true`, or lists/maps of them) marks. */
function marked(value, tree, out) {
    const stack = [[value, tree]];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
        const [v, t] = top;
        if (v === undefined || v === null)
            continue;
        if (t === true)
            out.push(v);
        else if (Array.isArray(t) && Array.isArray(v))
            t.forEach((x, i) => stack.push([v[i], x]));
        else if (sensitive_isObj(t) && sensitive_isObj(v))
            for (const [k, x] of Object.entries(t))
                stack.push([v[k], x]);
    }
}
/** Resources of a `planned_values` / `prior_state.values` module tree, child modules included. */
function moduleResources(root, out) {
    const stack = [root];
    while (stack.length > 0) {
        const m = stack.pop();
        if (!sensitive_isObj(m))
            continue;
        if (Array.isArray(m.resources))
            for (const r of m.resources)
                if (sensitive_isObj(r))
                    marked(r.values, r.sensitive_values, out);
        // One by one: spreading a long list into push() would overflow the call stack.
        if (Array.isArray(m.child_modules))
            for (const c of m.child_modules)
                stack.push(c);
    }
}
function outputValues(outputs, out) {
    if (!sensitive_isObj(outputs))
        return;
    for (const o of Object.values(outputs))
        if (sensitive_isObj(o) && o.sensitive === true)
            out.push(o.value);
}
/** Every sensitive value in a parsed plan document (duplicates possible; the caller dedupes). */
function sensitivePlanValues(plan) {
    const out = [];
    if (!sensitive_isObj(plan))
        return out;
    for (const key of ['resource_changes', 'resource_drift']) {
        const list = plan[key];
        if (!Array.isArray(list))
            continue;
        for (const rc of list) {
            const c = sensitive_isObj(rc) ? rc.change : undefined;
            if (!sensitive_isObj(c))
                continue;
            marked(c.before, c.before_sensitive, out);
            marked(c.after, c.after_sensitive, out);
        }
    }
    if (sensitive_isObj(plan.output_changes)) {
        for (const c of Object.values(plan.output_changes)) {
            if (!sensitive_isObj(c))
                continue;
            marked(c.before, c.before_sensitive, out);
            marked(c.after, c.after_sensitive, out);
        }
    }
    const planned = plan.planned_values;
    if (sensitive_isObj(planned)) {
        outputValues(planned.outputs, out);
        moduleResources(planned.root_module, out);
    }
    const prior = sensitive_isObj(plan.prior_state) ? plan.prior_state.values : undefined;
    if (sensitive_isObj(prior)) {
        outputValues(prior.outputs, out);
        moduleResources(prior.root_module, out);
    }
    const config = sensitive_isObj(plan.configuration) ? plan.configuration.root_module : undefined;
    const declared = sensitive_isObj(config) && sensitive_isObj(config.variables) ? config.variables : {};
    if (sensitive_isObj(plan.variables)) {
        for (const [name, v] of Object.entries(plan.variables)) {
            const d = declared[name];
            if (sensitive_isObj(d) && d.sensitive === true && sensitive_isObj(v))
                out.push(v.value);
        }
    }
    return out;
}

// EXTERNAL MODULE: ./src/core/suggest.ts
var suggest = __webpack_require__(32085);
;// CONCATENATED MODULE: ./src/adapters/engines/command.ts







/** File names the command engine uses in a step's work folder. */
const COMMAND_FILES = {
    inputs: 'inputs.json',
    planOutputs: 'plan-outputs.json',
    outputs: 'outputs.json',
    changes: 'changes.json',
    applyChanges: 'apply-changes.json',
};
/** A problem with what a script wrote or with the module folder: the step's failure reason. */
class StepFailed extends Error {
    status;
    constructor(message, status = 'failed') {
        super(message);
        this.status = status;
    }
}
/** Fails unless `<moduleDir>/<name>` is an executable file. */
async function checkExecutable(moduleDir, name) {
    const path = (0,external_node_path_.join)(moduleDir, name);
    const st = await (0,promises_.stat)(path).catch(() => undefined);
    if (!st?.isFile())
        throw new StepFailed(`command module ${moduleDir} has no '${name}' executable (expected ${path})`);
    try {
        await (0,promises_.access)(path, external_node_fs_.constants.X_OK);
    }
    catch {
        throw new StepFailed(`${path} is not executable (chmod +x ${name}, and commit the mode)`);
    }
    return path;
}
/** Reads a JSON file a script may have written; undefined when it did not. */
async function readOptionalJson(path, what) {
    let text;
    try {
        text = await (0,promises_.readFile)(path, 'utf8');
    }
    catch {
        return undefined;
    }
    if (!text.trim())
        return undefined;
    try {
        return JSON.parse(text);
    }
    catch (e) {
        throw new StepFailed(`${what} is not valid JSON: ${errorText(e)}`);
    }
}
/** Validates a SITE_DEPLOY_CHANGES document: `{"add","change","destroy"}` as non-negative integers. */
function parseChanges(doc) {
    const d = doc;
    const n = (k) => {
        const v = d?.[k] ?? 0;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
            throw new StepFailed(`SITE_DEPLOY_CHANGES: "${k}" must be a non-negative integer, got ${JSON.stringify(v)}`);
        }
        return v;
    };
    if (!d || typeof d !== 'object' || Array.isArray(d))
        throw new StepFailed('SITE_DEPLOY_CHANGES must hold a JSON object {"add","change","destroy"}');
    return { add: n('add'), change: n('change'), destroy: n('destroy') };
}
/**
 * Validates a SITE_DEPLOY_OUTPUTS document: a JSON object of output name to value (none
 * sensitive), each one of the manifest's `outputs:` when it declares them — an undeclared output
 * could never be read by a `#{module.output}` placeholder that validate accepted, and a typo in
 * either place would otherwise pass silently.
 */
function parseCommandOutputs(doc, declared, what = 'SITE_DEPLOY_OUTPUTS') {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
        throw new StepFailed('SITE_DEPLOY_OUTPUTS must hold a JSON object of outputs');
    const outputs = {};
    for (const [k, value] of Object.entries(doc))
        outputs[k] = { value, sensitive: false };
    const extra = declared ? Object.keys(outputs).filter((k) => !declared.names.includes(k)) : [];
    if (declared && extra.length > 0) {
        const list = declared.names.join(', ') || '(none)';
        const each = extra.map((k) => `"${k}"${(0,suggest/* didYouMean */.au)(k, declared.names)}`).join('; ');
        throw new StepFailed(`${what}: the script wrote ${extra.length === 1 ? 'an output' : 'outputs'} its manifest does not declare: ${each} — ` +
            `${declared.at}: outputs: [${list}]; add ${extra.length === 1 ? 'it' : 'them'} to outputs: or stop writing ${extra.length === 1 ? 'it' : 'them'}`);
    }
    return outputs;
}
/** The last stderr lines, without blank edges. */
function tailText(r) {
    const t = [...r.stderrTail];
    while (t.length && !t[t.length - 1].trim())
        t.pop();
    return t.length ? `\n${t.join('\n')}` : '';
}
const stepFile = (req, name) => (0,external_node_path_.join)(req.workDir, COMMAND_FILES[name]);
/** A sandboxed step's own HOME, beside its work folder (lent to it with the work folder). */
const sandboxHome = (workDir) => `${workDir}.home`;
/** Runs one of the module's scripts with its files in the environment; throws StepFailed when it does not succeed. */
async function runScript(req, exe, name, outputsFile, changesFile, cwd) {
    req.log(`$ ${exe}\n`);
    const sb = req.sandbox;
    const home = sandboxHome(req.workDir);
    const r = await runProcess({
        command: sb ? (0,external_node_path_.join)(cwd, name) : exe,
        args: [],
        cwd,
        env: childEnv({
            ...req.env,
            ...(sb ? { HOME: home } : {}),
            SITE_DEPLOY_INPUTS: stepFile(req, 'inputs'),
            SITE_DEPLOY_OUTPUTS: outputsFile,
            SITE_DEPLOY_CHANGES: changesFile,
        }),
        log: req.log,
        spoolDir: req.workDir,
        signal: req.signal,
        killGraceMs: req.killGraceMs,
        ...(sb ? { sandbox: { ...sb, lend: [req.workDir, home] } } : {}),
    });
    if (r.cancelled) {
        const how = r.exitSignal === 'SIGKILL' ? '; killed after the grace period' : '';
        throw new StepFailed(`cancelled during ${name}${how}${tailText(r)}`, 'cancelled');
    }
    if (r.spawnError) {
        const hint = r.spawnError.code === 'ENOENT' ? " (its '#!' interpreter was not found)" : '';
        throw new StepFailed(`${exe} could not start: ${r.spawnError.code ?? r.spawnError.message}${hint}`);
    }
    if (r.exitCode !== 0) {
        const exit = r.exitCode === null ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`;
        throw new StepFailed(`${name} failed (${exit})${tailText(r)}`);
    }
}
/**
 * A fresh work folder with the inputs file the scripts read; where the scripts run from. A
 * sandboxed step runs a copy of the module (the catalog is not its to read or change), with a
 * HOME of its own.
 */
async function prepareWorkDir(req) {
    try {
        let cwd = req.moduleDir;
        if (!req.sandbox)
            await freshWorkDir(req.workDir);
        else {
            if (req.root !== undefined)
                cwd = await copyModuleTree(req.moduleDir, req.workDir, req.root);
            else
                await copyModule(req.moduleDir, (cwd = req.workDir));
            const home = sandboxHome(req.workDir);
            await (0,promises_.rm)(home, { recursive: true, force: true });
            await (0,promises_.mkdir)(home, { mode: 0o700 });
        }
        await writePrivateJson(stepFile(req, 'inputs'), req.inputs);
        return cwd;
    }
    catch (e) {
        throw new StepFailed(`could not prepare the work folder ${req.workDir}: ${errorText(e)}`);
    }
}
/** `plan`: its changes (when it wrote them) and the outputs it knows at plan time. */
async function planScript(req, exe, progress, cwd) {
    await runScript(req, exe, 'plan', stepFile(req, 'planOutputs'), stepFile(req, 'changes'), cwd);
    const changesDoc = await readOptionalJson(stepFile(req, 'changes'), 'SITE_DEPLOY_CHANGES');
    if (changesDoc !== undefined) {
        progress.changes = parseChanges(changesDoc);
        const c = progress.changes;
        progress.hasChanges = c.add + c.change + c.destroy > 0;
    }
    const planOutputsDoc = await readOptionalJson(stepFile(req, 'planOutputs'), 'SITE_DEPLOY_OUTPUTS (plan)');
    return planOutputsDoc === undefined
        ? {}
        : parseCommandOutputs(planOutputsDoc, req.declaredOutputs, 'SITE_DEPLOY_OUTPUTS (plan)');
}
/**
 * Runs `command` modules (SPEC §5): the module folder's `plan`, then in apply mode `apply`,
 * with the module folder as working directory and SITE_DEPLOY_INPUTS/OUTPUTS/CHANGES files in
 * the work folder. Apply is skipped (no-op) when `plan` reported zero changes.
 */
class CommandEngine {
    /** Runs one step; never throws for script failures. */
    async run(req) {
        assertAbsolute('moduleDir', req.moduleDir);
        assertAbsolute('workDir', req.workDir);
        const done = stepFinisher(Date.now());
        if (req.signal?.aborted)
            return done({ status: 'cancelled', error: 'cancelled before it started' });
        const progress = { hasChanges: true };
        try {
            const planExe = await checkExecutable(req.moduleDir, 'plan');
            const applyExe = req.mode === 'apply' ? await checkExecutable(req.moduleDir, 'apply') : undefined;
            const cwd = await prepareWorkDir(req);
            const planOutputs = await planScript(req, planExe, progress, cwd);
            const { hasChanges, changes } = progress;
            if (req.mode === 'plan' || !applyExe || !hasChanges)
                return done({
                    status: hasChanges ? 'succeeded' : 'no-op',
                    hasChanges,
                    changes,
                    outputs: planOutputs,
                });
            const refused = await req.beforeApply?.({ changes });
            if (refused !== undefined)
                return done({ status: 'failed', hasChanges, changes, error: refused });
            await runScript(req, applyExe, 'apply', stepFile(req, 'outputs'), stepFile(req, 'applyChanges'), cwd);
            const outputsDoc = await readOptionalJson(stepFile(req, 'outputs'), 'SITE_DEPLOY_OUTPUTS (apply)');
            const outputs = outputsDoc === undefined
                ? planOutputs
                : parseCommandOutputs(outputsDoc, req.declaredOutputs, 'SITE_DEPLOY_OUTPUTS (apply; it was applied)');
            return done({ status: 'succeeded', hasChanges, changes, outputs });
        }
        catch (e) {
            const { hasChanges, changes } = progress;
            if (e instanceof StepFailed)
                return done({ status: e.status, hasChanges, changes, error: e.message });
            return done({ status: 'failed', hasChanges, changes, error: `command step failed: ${errorText(e)}` });
        }
    }
}

// EXTERNAL MODULE: ./src/core/duration.ts
var duration = __webpack_require__(98571);
// EXTERNAL MODULE: ./node_modules/canonicalize/lib/canonicalize.js
var canonicalize = __webpack_require__(98799);
// EXTERNAL MODULE: ./src/adapters/evidence/folder.ts + 3 modules
var folder = __webpack_require__(52952);
;// CONCATENATED MODULE: ./src/adapters/engines/terraform-init.ts
/**
 * When a Terraform step may skip `init`: each module × site × environment keeps its data folder
 * (`TF_DATA_DIR`) between runs, stamped after every successful init with what it was made from —
 * the module's code (every file of the copy, its lock file included), the backend configuration and
 * the Terraform binary — and with a fingerprint of the folder itself. A step reuses the folder only
 * when both still match; a changed input rebuilds it from nothing, and so does a folder that was
 * deleted, edited or corrupted (never trusted blindly). Inits sharing a plugin cache take turns
 * (cache-lock.ts).
 */






/** The stamp a successful init leaves in the data folder. */
const INIT_STAMP = 'site-deploy-init.json';
/** The lock file `init` generated for a module that commits none, kept for the next run. */
const KEPT_LOCK_FILE = 'site-deploy.terraform.lock.hcl';
/** Terraform's dependency lock file. */
const LOCK_FILE = '.terraform.lock.hcl';
/** Bump when the stamp's meaning changes: every older folder is rebuilt once. */
const STAMP_VERSION = 1;
const sha256 = (data) => (0,external_node_crypto_.createHash)('sha256').update(data).digest('hex');
/**
 * sha256 over every file under `dir` (path and bytes, as {@link hashTrees} reads them), skipping
 * `skip(relativePath)`: the module's code as this step's copy holds it.
 */
async function treeDigest(dir, skip) {
    const files = await (0,folder/* hashTrees */.Kr)(dir, ['']);
    const lines = [...files]
        .filter(([rel]) => !skip(rel))
        .map(([rel, hash]) => `${rel}\0${hash}`)
        .sort();
    return sha256(lines.join('\n'));
}
/**
 * The data folder's fingerprint: every entry's path, kind, size and mtime (symlinks — providers
 * from the plugin cache — by target), plus the bytes of the small files Terraform reads to decide
 * what is installed (`terraform.tfstate`: the backend; `modules/modules.json`). Anything deleted,
 * added, rewritten or truncated changes it.
 */
async function folderFingerprint(dataDir) {
    const lines = [];
    const walk = async (at) => {
        for (const name of (await (0,promises_.readdir)(at)).sort()) {
            const path = (0,external_node_path_.join)(at, name);
            const rel = (0,external_node_path_.relative)(dataDir, path);
            if (rel === INIT_STAMP || rel === KEPT_LOCK_FILE)
                continue;
            const s = await (0,promises_.lstat)(path);
            if (s.isDirectory()) {
                lines.push(`d ${rel}`);
                await walk(path);
            }
            else if (s.isSymbolicLink())
                lines.push(`l ${rel} ${await (0,promises_.readlink)(path)}`);
            else if (s.isFile()) {
                const small = rel === 'terraform.tfstate' || rel === (0,external_node_path_.join)('modules', 'modules.json');
                lines.push(`f ${rel} ${s.size} ${Math.trunc(s.mtimeMs)}${small ? ` ${sha256(await (0,promises_.readFile)(path))}` : ''}`);
            }
            else
                lines.push(`? ${rel}`);
        }
    };
    await walk(dataDir);
    return sha256(lines.join('\n'));
}
/** The binary Terraform runs as, resolved on PATH like the shell would, with its size and mtime. */
async function binaryIdentity(binary, env) {
    for (const c of pathCandidates(binary, env)) {
        const s = await (0,promises_.stat)(c).catch(() => undefined);
        if (s?.isFile())
            return `${c} ${s.size} ${Math.trunc(s.mtimeMs)}`;
    }
    return `${binary} (not found)`;
}
/** What a data folder is made from: code, backend configuration, binary. */
function initKey(parts) {
    return sha256((0,canonicalize/* default */.A)({ v: STAMP_VERSION, ...parts }) ?? '');
}
/**
 * Whether the data folder was initialised from `key` and is as that init left it. A missing,
 * unreadable or mismatched stamp, or a folder changed since, is a no.
 */
async function initIsCurrent(dataDir, key) {
    let stamp;
    try {
        stamp = JSON.parse(await (0,promises_.readFile)((0,external_node_path_.join)(dataDir, INIT_STAMP), 'utf8'));
    }
    catch {
        return false;
    }
    if (stamp.version !== STAMP_VERSION || stamp.key !== key)
        return false;
    try {
        return (await folderFingerprint(dataDir)) === stamp.folder;
    }
    catch {
        return false;
    }
}
/** Empties a data folder before an init (owner-only: it holds the backend configuration). */
async function resetDataDir(dataDir) {
    await (0,promises_.rm)(dataDir, { recursive: true, force: true });
    await (0,promises_.mkdir)(dataDir, { recursive: true, mode: 0o700 });
}
/** Stamps a data folder after a successful init. */
async function stampDataDir(dataDir, key) {
    const stamp = { version: STAMP_VERSION, key, folder: await folderFingerprint(dataDir) };
    await (0,promises_.writeFile)((0,external_node_path_.join)(dataDir, INIT_STAMP), JSON.stringify(stamp) + '\n', { mode: 0o600 });
}
/** Whether Terraform's error output says the working directory needs `init`. */
function needsInit(stderr) {
    const text = stderr.join('\n');
    return (/\b(terraform|tofu) init\b/.test(text) ||
        /Backend initialization required|Inconsistent dependency lock file|Module not installed|Required plugins are not installed|Missing required provider/i.test(text));
}

;// CONCATENATED MODULE: ./src/adapters/engines/cache-lock.ts
/**
 * The provider plugin cache's init lock. Terraform does not promise its plugin cache is safe for
 * concurrent installs, so inits that share one take turns: a queue in this process, and an
 * exclusively created lock file naming the pid across processes on this machine.
 */



/** In-process queues of inits per plugin cache. */
const queues = new Map();
function cache_lock_alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (e) {
        return e.code === 'EPERM';
    }
}
/**
 * Runs `fn` while holding the plugin cache's init lock: one init at a time in this process (a
 * queue) and across processes on this machine (`<cache>/.site-deploy-init.lock`, created
 * exclusively, naming its pid; a lock whose process is gone is taken over).
 */
async function withCacheLock(cacheDir, fn, signal) {
    const before = queues.get(cacheDir) ?? Promise.resolve();
    let release;
    const mine = new Promise((ok) => (release = ok));
    const tail = before.then(() => mine);
    queues.set(cacheDir, tail);
    await before;
    const lockPath = (0,external_node_path_.join)(cacheDir, '.site-deploy-init.lock');
    try {
        await (0,promises_.mkdir)(cacheDir, { recursive: true, mode: 0o700 });
        for (;;) {
            try {
                const h = await (0,promises_.open)(lockPath, external_node_fs_.constants.O_CREAT | external_node_fs_.constants.O_EXCL | external_node_fs_.constants.O_WRONLY, 0o600);
                await h.writeFile(String(process.pid));
                await h.close();
                break;
            }
            catch (e) {
                if (e.code !== 'EEXIST')
                    throw e;
                const text = (await (0,promises_.readFile)(lockPath, 'utf8').catch(() => '')).trim();
                const holder = Number(text);
                const age = Date.now() - ((await (0,promises_.stat)(lockPath).catch(() => undefined))?.mtimeMs ?? 0);
                // A lock naming a process that is gone is taken over; an empty one only once it is old
                // (its writer may be between creating it and writing its pid).
                if (text ? !(Number.isInteger(holder) && holder > 0 && cache_lock_alive(holder)) : age > 5_000) {
                    await (0,promises_.rm)(lockPath, { force: true });
                    continue;
                }
                if (signal?.aborted)
                    throw new Error('cancelled while waiting for the plugin cache');
                await new Promise((ok) => setTimeout(ok, 100));
            }
        }
        try {
            return await fn();
        }
        finally {
            await (0,promises_.rm)(lockPath, { force: true });
        }
    }
    finally {
        release();
        if (queues.get(cacheDir) === tail)
            queues.delete(cacheDir);
    }
}

;// CONCATENATED MODULE: ./src/adapters/engines/terraform-sandbox.ts
/**
 * What a sandboxed Terraform step's uid is given (sandbox.ts): its work folder and a HOME of its
 * own (lent), the module's data folder and the plugin cache bind-mounted at fixed paths (so a kept
 * data folder, whose provider links and backend configuration name those paths, stays valid from
 * run to run), and the local state staged: copied into a folder of its own before each process and
 * back after it, even when site-deploy died meanwhile.
 */





/** The local state's name inside the step's state folder (mounted at `sandboxMounts().state`). */
const STAGED_STATE = 'terraform.tfstate';
/** A sandboxed step's HOME and state folder, beside its work folder (lent with it). */
const sandboxFolders = (workDir) => ({
    home: `${workDir}.home`,
    state: `${workDir}.state`,
});
/** The backend Terraform is told about: a sandboxed local state lives at the fixed staged path. */
function sandboxedBackend(backend, sandboxed) {
    if (!sandboxed || backend.kind !== 'local')
        return backend;
    return { kind: 'local', path: (0,external_node_path_.join)(sandboxMounts().state, STAGED_STATE) };
}
/** The user's CLI configuration: TF_CLI_CONFIG_FILE, else `~/.terraformrc`, when it is a file. */
function cliConfig(env) {
    const cfg = env.TF_CLI_CONFIG_FILE;
    const rc = cfg !== undefined ? (cfg === '/dev/null' ? undefined : cfg) : env.HOME && (0,external_node_path_.join)(env.HOME, '.terraformrc');
    return rc && (0,external_node_fs_.existsSync)(rc) && (0,external_node_fs_.statSync)(rc).isFile() ? rc : undefined;
}
/**
 * The environment a sandboxed step's processes get on top of the step's: its own HOME, a copy of
 * the CLI configuration it can read (the user's may live in root's home), and the data folder and
 * plugin cache at their fixed mount paths.
 */
function sandboxEnv(places, env) {
    const mounts = sandboxMounts();
    const { home } = sandboxFolders(places.workDir);
    const extra = { HOME: home };
    if (cliConfig(env) !== undefined)
        extra.TF_CLI_CONFIG_FILE = (0,external_node_path_.join)(home, '.terraformrc');
    else if (env.TF_CLI_CONFIG_FILE !== undefined)
        extra.TF_CLI_CONFIG_FILE = '/dev/null';
    if (places.dataDir !== undefined)
        extra.TF_DATA_DIR = mounts.data;
    if (places.pluginCacheDir !== undefined)
        extra.TF_PLUGIN_CACHE_DIR = mounts.plugins;
    return extra;
}
/**
 * Makes the step's HOME (with the copy of the CLI configuration) and state folder, and lets every
 * step read the plugin cache (provider binaries, nothing secret). `env`: the step's environment
 * before {@link sandboxEnv}.
 */
async function prepareSandbox(places, env) {
    const { home, state } = sandboxFolders(places.workDir);
    for (const d of [home, state]) {
        await (0,promises_.rm)(d, { recursive: true, force: true });
        await (0,promises_.mkdir)(d, { mode: 0o700 });
    }
    const rc = cliConfig(env);
    if (rc !== undefined)
        await (0,promises_.copyFile)(rc, (0,external_node_path_.join)(home, '.terraformrc'));
    if (places.pluginCacheDir !== undefined) {
        await (0,promises_.mkdir)(places.pluginCacheDir, { recursive: true, mode: 0o755 });
        await (0,promises_.chmod)(places.pluginCacheDir, 0o755);
    }
}
/**
 * What one Terraform process of a sandboxed step gets: the work folder, HOME, state folder and
 * data folder lent; `init` also borrows the plugin cache (it installs there, one init at a time
 * per cache), every other command only reads it.
 */
function terraformProcessSandbox(sb, places, init) {
    const mounts = sandboxMounts();
    const { home, state } = sandboxFolders(places.workDir);
    const lend = [places.workDir, home, state];
    const binds = [[state, mounts.state]];
    if (places.dataDir !== undefined) {
        lend.push(places.dataDir);
        binds.push([places.dataDir, mounts.data]);
    }
    if (places.pluginCacheDir !== undefined) {
        if (init)
            lend.push(places.pluginCacheDir);
        binds.push([places.pluginCacheDir, mounts.plugins]);
    }
    const stage = places.backend.kind === 'local' ? [[places.backend.path, (0,external_node_path_.join)(state, STAGED_STATE)]] : [];
    return { ...sb, lend, binds, stage };
}
/** Whether a uid of no group, not the owner, may execute `path`: every folder on its way and the file. */
function reachableByOthers(path) {
    let real;
    try {
        real = (0,external_node_fs_.realpathSync)(path);
        (0,external_node_fs_.accessSync)(real, external_node_fs_.constants.X_OK);
    }
    catch {
        return false;
    }
    for (let p = real;; p = (0,external_node_path_.dirname)(p)) {
        if (((0,external_node_fs_.statSync)(p).mode & 0o001) === 0)
            return false;
        if ((0,external_node_path_.dirname)(p) === p)
            return true;
    }
}
/**
 * Why a step's uid could not run this Terraform binary (it lies under a folder only root may
 * enter, say), or undefined when it can.
 */
function binaryUnreachable(binary, env = process.env) {
    const found = pathCandidates(binary, env).find((c) => (0,external_node_fs_.existsSync)(c));
    // Not found at all: the step fails with its own message, sandboxed or not.
    if (found === undefined || reachableByOthers(found))
        return undefined;
    return `the Terraform binary ${found} cannot be run by a step's uid (a folder on its path, or the file, is not executable by others)`;
}

;// CONCATENATED MODULE: ./src/adapters/engines/terraform.ts











/** File names the engine writes into a step's work folder. */
const TERRAFORM_FILES = {
    tfvars: 'site-deploy.auto.tfvars.json',
    backendOverride: 'site_deploy_backend_override.tf.json',
    plan: 'tfplan',
    planJson: 'plan.json',
};
/**
 * The backend override file's content. Credentials never go here (plan files and
 * `.terraform/` keep backend config): Terraform reads them from the environment.
 */
function backendOverride(backend, env) {
    if (backend.kind === 'local')
        return { terraform: { backend: { local: { path: backend.path } } } };
    const s3 = {
        bucket: backend.bucket,
        key: backend.key,
        region: backend.region,
        use_lockfile: true,
    };
    // A custom endpoint (moto, MinIO, a VPC endpoint by IP) has no virtual-host DNS names.
    if (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL)
        s3.use_path_style = true;
    if (backend.maxRetries !== undefined)
        s3.max_retries = backend.maxRetries;
    return { terraform: { backend: { s3 } } };
}
/** Whether a `*_unknown` tree marks anything unknown. */
function anyUnknown(tree) {
    if (tree === true)
        return true;
    if (Array.isArray(tree))
        return tree.some(anyUnknown);
    if (tree && typeof tree === 'object')
        return Object.values(tree).some(anyUnknown);
    return false;
}
/**
 * Outputs a plan already knows (`planned_values.outputs`), and the names of those known only
 * after apply (any part unknown in `output_changes[name].after_unknown`).
 */
function plannedOutputs(plan) {
    const p = (plan ?? {});
    const planned = p.planned_values?.outputs ?? {};
    const changes = p.output_changes ?? {};
    const outputs = {};
    const unknown = [];
    const names = new Set([...Object.keys(planned), ...Object.keys(changes)]);
    for (const name of [...names].sort()) {
        const change = changes[name];
        if (change?.actions?.includes('delete') && !change.actions.includes('create'))
            continue;
        const value = planned[name];
        if (anyUnknown(change?.after_unknown) || value === undefined || !('value' in value)) {
            unknown.push(name);
            continue;
        }
        outputs[name] = {
            value: value.value,
            sensitive: value.sensitive === true || anyUnknown(change?.after_sensitive),
        };
    }
    return { outputs, unknown };
}
/** Parses `terraform output -json`. */
function parseOutputJson(text) {
    const raw = JSON.parse(text || '{}');
    const outputs = {};
    for (const [name, o] of Object.entries(raw))
        outputs[name] = { value: o.value, sensitive: o.sensitive === true };
    return outputs;
}
/**
 * The outputs in the state a step just wrote — the document `output -json` reads — from the local
 * file, or from the S3 object with the step's own credentials from its request (its session may
 * read its state object). Undefined when an S3 step has no credentials of its own to read it with.
 */
async function writtenStateOutputs(module, backend, env, credentials) {
    if (backend.kind === 's3' && credentials === undefined)
        return undefined;
    return ((await readStateOutputs(module, backend, env, backend.kind === 's3' ? credentials : undefined)) ?? {});
}
/** A plan with nothing to do, as `show -json` would describe it for the digest and the summary. */
const NO_CHANGES_PLAN = Object.freeze({
    format_version: '1.2',
    resource_changes: [],
    output_changes: {},
});
/** The first `Error: …` line Terraform printed, with the lock holder when it is a lock error. */
function terraformReason(stderr) {
    const lines = stderr.map((l) => l.replace(/^[│╷╵]\s?/, '').trim());
    const err = lines.find((l) => l.startsWith('Error: '));
    if (!err)
        return undefined;
    let reason = err.slice('Error: '.length);
    if (/state lock/i.test(reason)) {
        const field = (f) => lines
            .find((l) => l.startsWith(`${f}:`))
            ?.slice(f.length + 1)
            .trim() || undefined;
        const who = field('Who');
        const created = field('Created');
        const id = field('ID');
        const holder = [who && `held by ${who}`, created && `since ${created}`, id && `lock ID ${id}`]
            .filter(Boolean)
            .join(', ');
        if (holder)
            reason += ` (${holder})`;
    }
    return reason;
}
/** A failed result's `error`: one line, then the stderr tail. */
function errorWithTail(reason, tail) {
    const t = [...tail];
    while (t.length && !t[t.length - 1].trim())
        t.pop();
    while (t.length && !t[0].trim())
        t.shift();
    return t.length ? `${reason}\n${t.join('\n')}` : reason;
}
/** The one-line description of a binary that could not start. */
function startFailure(binary, e) {
    const where = binary.includes('/') ? '' : ' on PATH';
    if (e.code === 'ENOENT')
        return `terraform binary '${binary}' not found${where}`;
    if (e.code === 'EACCES')
        return `terraform binary '${binary}' is not executable`;
    return `terraform binary '${binary}' could not start: ${e.message}`;
}
class terraform_StepFailed extends Error {
    result;
    stderr;
    constructor(result, 
    /** What the process printed on stderr (head and tail), when it ran and failed. */
    stderr = []) {
        super(result.error);
        this.result = result;
        this.stderr = stderr;
    }
}
/**
 * A step's Terraform environment: no prompts, its data folder and the shared plugin cache (in the
 * sandbox: at their mount paths, with a HOME of its own).
 */
function stepEnv(req) {
    const env = terraformEnv(req.env);
    if (req.sandbox)
        return { ...env, ...sandboxEnv(req, env) };
    if (req.dataDir !== undefined)
        env.TF_DATA_DIR = req.dataDir;
    if (req.pluginCacheDir !== undefined)
        env.TF_PLUGIN_CACHE_DIR = req.pluginCacheDir;
    return env;
}
/**
 * Copies the module (with the repository root known, keeping the catalog's layout so local
 * module sources such as `../shared` resolve), writes the backend override, and works out what
 * the data folder must be made from.
 */
async function prepareFolder(req, env) {
    let cwd = req.workDir;
    if (req.root !== undefined)
        cwd = await copyModuleTree(req.moduleDir, req.workDir, req.root);
    else
        await copyModule(req.moduleDir, cwd);
    if (req.sandbox)
        await prepareSandbox(req, terraformEnv(req.env));
    // Sandboxed, Terraform sees the local state at its fixed staged path (the init key stays put).
    const backend = sandboxedBackend(req.backend, req.sandbox !== undefined);
    await writePrivateJson((0,external_node_path_.join)(cwd, TERRAFORM_FILES.backendOverride), backendOverride(backend, env));
    if (req.backend.kind === 'local')
        await (0,promises_.mkdir)((0,external_node_path_.dirname)(req.backend.path), { recursive: true, mode: 0o700 });
    const committedLock = (0,external_node_fs_.existsSync)((0,external_node_path_.join)(cwd, LOCK_FILE));
    if (req.dataDir === undefined)
        return { cwd, key: '', committedLock };
    const generated = new Set([
        TERRAFORM_FILES.tfvars,
        TERRAFORM_FILES.backendOverride,
        WORKDIR_MARKER,
    ]);
    const key = initKey({
        code: await treeDigest(req.workDir, (rel) => generated.has((0,external_node_path_.basename)(rel))),
        backend: backendOverride(backend, env),
        binary: await binaryIdentity(req.binary, env),
    });
    return { cwd, key, committedLock };
}
/** Runs Terraform in `cwd`, logging the command; a failure or cancellation throws {@link StepFailed}. */
function terraformRunner(req, env, cwd) {
    return async (args, opts = {}) => {
        const { okCodes = [0], ...rest } = opts;
        req.log(`$ ${req.binary} ${args.join(' ')}\n`);
        const r = await runProcess({
            command: req.binary,
            args,
            cwd,
            spoolDir: req.workDir,
            env,
            log: req.log,
            signal: req.signal,
            killGraceMs: req.killGraceMs,
            ...(req.sandbox ? { sandbox: terraformProcessSandbox(req.sandbox, req, args[0] === 'init') } : {}),
            ...rest,
        });
        const what = `${req.binary} ${args[0]}`;
        if (r.cancelled) {
            const how = r.exitCode === null && r.exitSignal === 'SIGKILL' ? 'killed after the grace period' : 'stopped';
            throw new terraform_StepFailed({
                status: 'cancelled',
                error: errorWithTail(`cancelled during ${what}; Terraform ${how}`, r.stderrTail),
            });
        }
        if (r.spawnError)
            throw new terraform_StepFailed({ status: 'failed', error: startFailure(req.binary, r.spawnError) });
        if (r.exitCode === null || !okCodes.includes(r.exitCode)) {
            const exit = r.exitCode === null ? `signal ${r.exitSignal}` : `exit ${r.exitCode}`;
            let reason = terraformReason(r.stderrHead) ?? terraformReason(r.stderrTail);
            if (reason && /state lock/i.test(reason))
                reason += `; lock-timeout was ${req.lockTimeout}`;
            const head = `${what} failed (${exit})${reason ? `: ${reason}` : ''}`;
            throw new terraform_StepFailed({ status: 'failed', error: errorWithTail(head, r.stderrTail) }, [
                ...r.stderrHead,
                ...r.stderrTail,
            ]);
        }
        return r;
    };
}
/** `init` into a data folder emptied first, then stamped; one at a time per plugin cache. */
async function initFolder(req, folder, tf) {
    const dataDir = req.dataDir;
    const run = async () => {
        if (dataDir !== undefined)
            await resetDataDir(dataDir);
        await tf(['init', '-input=false', '-no-color']);
        if (dataDir === undefined)
            return;
        // A module that commits no lock file keeps the one init wrote, for the runs that skip init.
        if (!folder.committedLock && (0,external_node_fs_.existsSync)((0,external_node_path_.join)(folder.cwd, LOCK_FILE)))
            await (0,promises_.copyFile)((0,external_node_path_.join)(folder.cwd, LOCK_FILE), (0,external_node_path_.join)(dataDir, KEPT_LOCK_FILE));
        await stampDataDir(dataDir, folder.key);
    };
    if (req.pluginCacheDir !== undefined)
        await withCacheLock(req.pluginCacheDir, run, req.signal);
    else
        await run();
    folder.initialised = 'fresh';
}
/**
 * `init`, unless the module's data folder was initialised from exactly this code, backend and
 * binary and is as that init left it. True when the kept folder is used.
 */
async function ensureInit(req, folder, tf) {
    const dataDir = req.dataDir;
    if (dataDir !== undefined && (await initIsCurrent(dataDir, folder.key))) {
        if (!folder.committedLock && (0,external_node_fs_.existsSync)((0,external_node_path_.join)(dataDir, KEPT_LOCK_FILE)))
            await (0,promises_.copyFile)((0,external_node_path_.join)(dataDir, KEPT_LOCK_FILE), (0,external_node_path_.join)(folder.cwd, LOCK_FILE));
        req.log('init skipped: this module, its lock file, backend and Terraform are as at the last init\n');
        folder.initialised = 'kept';
        return true;
    }
    await initFolder(req, folder, tf);
    return false;
}
/**
 * Runs Terraform or OpenTofu steps: a fresh copy of the catalog folder with generated
 * inputs and backend override; `init` (only when the kept data folder is not current) →
 * `plan -out -detailed-exitcode` → with changes, `show -json` → `apply` the saved plan. Outputs
 * come from the state the step wrote (local file, or the S3 object read with the step's own
 * credentials; `output -json` only when it has none). Machine output (`show -json`,
 * `output -json`, state) holds sensitive values in plaintext and never reaches the log.
 */
class TerraformEngine {
    /**
     * Copies a module and runs `init` if it needs it, ahead of its step (while earlier modules plan
     * and apply); its step takes the folder and the log over through `warmup`. Never throws.
     */
    async warm(req) {
        const log = [];
        const r = { ...req, log: (chunk) => void log.push(chunk) };
        try {
            const env = stepEnv(r);
            const folder = await prepareFolder(r, env);
            await ensureInit(r, folder, terraformRunner(r, env, folder.cwd));
            return { ...folder, log };
        }
        catch (e) {
            return { failed: e instanceof terraform_StepFailed ? (e.result.error ?? e.message) : errorText(e) };
        }
    }
    /** Runs one step; never throws for tool failures. */
    async run(req) {
        assertAbsolute('moduleDir', req.moduleDir);
        assertAbsolute('workDir', req.workDir);
        if (req.backend.kind === 'local')
            assertAbsolute('backend.path', req.backend.path);
        const done = stepFinisher(Date.now());
        if (req.signal?.aborted)
            return done({ status: 'cancelled', error: 'cancelled before it started' });
        const env = stepEnv(req);
        // A step whose folder was made (and initialised) ahead of it takes it over, log included;
        // a warm-up that failed is simply done again here, so its failure is the step's own.
        const warm = req.warmup ? await req.warmup.catch(() => undefined) : undefined;
        if (req.signal?.aborted)
            return done({ status: 'cancelled', error: 'cancelled before it started' });
        const warmed = warm && !('failed' in warm) ? warm : undefined;
        if (warmed)
            for (const chunk of warmed.log)
                req.log(chunk);
        let folder;
        try {
            folder = warmed ?? (await prepareFolder(req, env));
            await writePrivateJson((0,external_node_path_.join)(folder.cwd, TERRAFORM_FILES.tfvars), req.inputs);
        }
        catch (e) {
            return done({
                status: 'failed',
                error: `could not prepare the work folder ${req.workDir}: ${errorText(e)}`,
            });
        }
        return new TerraformStep(req, env, folder, done).run();
    }
}
/** One step in its prepared folder: init if needed, plan, then show and apply what it changes. */
class TerraformStep {
    req;
    env;
    folder;
    done;
    tf;
    planJsonPath;
    lock;
    hasChanges = false;
    planSha256;
    parsed;
    constructor(req, env, folder, done) {
        this.req = req;
        this.env = env;
        this.folder = folder;
        this.done = done;
        this.tf = terraformRunner(req, this.env, folder.cwd);
        this.planJsonPath = (0,external_node_path_.join)(folder.cwd, TERRAFORM_FILES.planJson);
        this.lock = `-lock-timeout=${(0,duration/* goDuration */.L)(req.lockTimeout)}`;
    }
    async run() {
        try {
            await this.plan();
            if (!this.hasChanges)
                return await this.noChanges();
            await this.show();
            if (this.req.mode === 'plan')
                return this.planned();
            return await this.apply();
        }
        catch (e) {
            return this.failure(e);
        }
    }
    /** `init` unless the kept data folder is current, then `plan -out -detailed-exitcode`. */
    async plan() {
        const { req, folder, tf } = this;
        let reused = folder.initialised === 'kept';
        if (!folder.initialised)
            reused = await ensureInit(req, folder, tf);
        const args = [
            'plan',
            '-input=false',
            '-no-color',
            this.lock,
            '-detailed-exitcode',
            `-out=${TERRAFORM_FILES.plan}`,
        ];
        let plan;
        try {
            plan = await tf(args, { okCodes: [0, 2] });
        }
        catch (e) {
            // A reused data folder Terraform does not accept after all: rebuild it once.
            if (!(reused && e instanceof terraform_StepFailed && e.result.status === 'failed' && needsInit(e.stderr)))
                throw e;
            req.log('the kept Terraform data folder needs init after all: rebuilding it\n');
            await initFolder(req, folder, tf);
            plan = await tf(args, { okCodes: [0, 2] });
        }
        this.hasChanges = plan.exitCode === 2;
        this.planSha256 = await sha256File((0,external_node_path_.join)(folder.cwd, TERRAFORM_FILES.plan));
    }
    /**
     * The outputs a step leaves: from the state Terraform just wrote (local backend: the file, as
     * `output -json` reads it; S3: the object, with the step's credentials), else `output -json`.
     */
    async outputs() {
        const { req, env } = this;
        const module = (0,external_node_path_.basename)(req.workDir);
        if (req.backend.kind === 'local')
            return (await writtenStateOutputs(module, req.backend, env)) ?? {};
        try {
            const read = await writtenStateOutputs(module, req.backend, env, req.credentials);
            if (read)
                return read;
        }
        catch (e) {
            req.log(`outputs: ${errorText(e)}; asking Terraform instead\n`);
        }
        const out = await this.tf(['output', '-json', '-no-color'], { captureStdout: true, logStdout: false });
        return parseOutputJson(out.stdout);
    }
    /** Nothing to do (-detailed-exitcode 0): no `show -json`, nothing to apply; the state's outputs, unchanged. */
    async noChanges() {
        this.parsed = NO_CHANGES_PLAN;
        this.req.onPlan?.(this.parsed);
        return this.done({
            status: 'no-op',
            hasChanges: false,
            plan: this.parsed,
            planSha256: this.planSha256,
            outputs: await this.outputs(),
            ...(this.req.mode === 'plan' ? { unknownOutputs: [] } : {}),
        });
    }
    /** `show -json` into the plan file (never the log), parsed and handed to `onPlan` before any apply. */
    async show() {
        await this.tf(['show', '-json', '-no-color', TERRAFORM_FILES.plan], {
            stdoutFile: this.planJsonPath,
            logStdout: false,
        });
        this.parsed = (0,plan_summary/* parsePlanJson */.Xj)(await (0,promises_.readFile)(this.planJsonPath, 'utf8'), 'terraform show -json');
        this.req.onPlan?.(this.parsed);
    }
    /** What a plan with changes leaves: its document and the outputs it already knows. */
    planned() {
        const { outputs, unknown } = plannedOutputs(this.parsed);
        return this.done({ status: 'succeeded', ...this.planFields(), outputs, unknownOutputs: unknown });
    }
    /** The saved plan applied, unless `beforeApply` refuses it; then the outputs of the new state. */
    async apply() {
        const { planJsonPath, planSha256 } = this;
        const refused = await this.req.beforeApply?.({ planJsonPath, planSha256 });
        if (refused !== undefined)
            return this.done({ status: 'failed', ...this.planFields(), error: refused });
        await this.tf(['apply', '-input=false', '-no-color', '-auto-approve', this.lock, TERRAFORM_FILES.plan]);
        return this.done({ status: 'succeeded', ...this.planFields(), outputs: await this.outputs() });
    }
    planFields() {
        return {
            hasChanges: this.hasChanges,
            planJsonPath: this.planJsonPath,
            plan: this.parsed,
            planSha256: this.planSha256,
        };
    }
    /** A Terraform failure or cancellation, with what the step got to; anything else names the folder. */
    failure(e) {
        const { hasChanges, planSha256, planJsonPath, parsed } = this;
        if (!(e instanceof terraform_StepFailed)) {
            // fs or JSON trouble after Terraform succeeded: still the step's failure, with the cause.
            return this.done({
                status: 'failed',
                hasChanges,
                planSha256,
                error: `terraform step failed in ${this.folder.cwd}: ${errorText(e)}`,
            });
        }
        return this.done({
            ...e.result,
            hasChanges,
            planSha256,
            ...(planSha256 && (0,external_node_fs_.existsSync)(planJsonPath) ? { planJsonPath } : {}),
            ...(parsed !== undefined ? { plan: parsed } : {}),
        });
    }
}

;// CONCATENATED MODULE: ./src/adapters/engines/index.ts




/** The engine for a catalog manifest's `engine:` value. */
function engineFor(kind) {
    return kind === 'command' ? new CommandEngine() : new TerraformEngine();
}

;// CONCATENATED MODULE: ./src/adapters/run/steps.ts
















/**
 * Why a step of this engine cannot run sandboxed even where the sandbox is available: a Terraform
 * binary the step's uid cannot execute (under a folder only root may enter).
 */
function unsandboxedEngine(engine, terraformBinary) {
    return engine === 'terraform' ? binaryUnreachable(terraformBinary) : undefined;
}
/** A step's sandbox, or why it has none: the step's log line says which. */
function stepSandbox(settings, manifest) {
    const probe = settings.isolation;
    const why = probe?.isolation !== 'namespace'
        ? (probe?.reason ?? 'not set up')
        : unsandboxedEngine(manifest.engine, settings.terraformBinary);
    if (probe?.isolation !== 'namespace' || why !== undefined)
        return { line: `isolation: none (${why})\n`, release: () => undefined };
    const uid = takeUid();
    return {
        sandbox: { uid, prefix: probe.prefix },
        line: `isolation: namespace (uid ${uid})\n`,
        release: () => releaseUid(uid),
    };
}
/**
 * The provider plugin cache every Terraform step shares: the user's `TF_PLUGIN_CACHE_DIR` when it
 * names a folder, else `<root>/.site-deploy/plugin-cache`.
 */
function pluginCache(root, env = process.env) {
    const own = env.TF_PLUGIN_CACHE_DIR;
    return own && (0,external_node_path_.isAbsolute)(own) ? own : (0,external_node_path_.join)((0,tool_dir/* toolDir */.O)(root), 'plugin-cache');
}
const ZERO = { add: 0, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 };
/** `file:line:col: error: …` for outputs a manifest declares that the module's Terraform code lacks. */
function manifestOutputsProblem(ws, manifest, plan) {
    const missing = missingOutputs(manifest.outputs, plan);
    if (missing.length === 0)
        return undefined;
    const file = ws.files.get(manifest.file);
    return missing
        .map((o) => {
        const at = file?.locate(['outputs', manifest.outputs.indexOf(o)]) ?? {
            file: manifest.file,
            line: 1,
            column: 1,
        };
        return (0,errors/* formatProblem */.Vw)({
            ...at,
            severity: 'error',
            message: `output "${o}" is declared in ${manifest.file}, but the module's Terraform code has no output "${o}": add it to the code or remove it from outputs:`,
        });
    })
        .join('\n');
}
/** A command module's declared outputs and the `file:line` of its manifest's `outputs:`. */
function declaredOutputs(ws, manifest) {
    if (manifest.engine !== 'command' || !manifest.outputs)
        return {};
    const line = ws.files.get(manifest.file)?.locate(['outputs'], true).line ?? 1;
    return { declaredOutputs: { names: manifest.outputs, at: `${manifest.file}:${line}` } };
}
/** Engine-backed ports for the runner: one work folder per step, grouped logs, plan summaries. */
/** The step's environment before any session: no shared credentials or config file, no instance metadata. */
function baseStepEnv(settings) {
    return {
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...(settings.env ?? {}),
    };
}
/** Where a module step's Terraform works: its copy, data folder, plugin cache, state and binary. */
function stepFolder(settings, graph, node, manifest) {
    return {
        binary: settings.terraformBinary,
        moduleDir: (0,external_node_path_.resolve)(settings.root, manifest.dir),
        root: settings.root,
        workDir: (0,external_node_path_.join)(settings.workRoot, node.name),
        dataDir: (0,external_node_path_.join)((0,tool_dir/* toolDir */.O)(settings.root), 'terraform', graph.site.name, graph.environment.name, node.name),
        pluginCacheDir: pluginCache(settings.root),
        backend: backendFor(settings.root, graph, node),
        lockTimeout: settings.lockTimeout,
    };
}
/**
 * Terraform modules that do not start at once get their folder copied and `init` run ahead, one
 * after another in the order they will run, while earlier modules plan and apply. Only with local
 * state: an S3 backend's init needs the step's own session.
 */
function warmAhead(terraform, graph, settings) {
    const stop = new AbortController();
    const warmups = new Map();
    const first = Math.min(...graph.nodes.map((n) => n.weight));
    let chain = Promise.resolve();
    for (const node of [...graph.nodes].sort((a, b) => a.weight - b.weight)) {
        const manifest = node.manifest;
        if (manifest?.engine !== 'terraform' || node.weight === first)
            continue;
        const folder = stepFolder(settings, graph, node, manifest);
        if (folder.backend.kind !== 'local')
            continue;
        const warmed = chain.then(async () => {
            // Sandboxed, the warm-up's init runs as a uid of its own too (the step lends the folder anew).
            const probe = settings.isolation;
            const sandbox = probe?.isolation === 'namespace' ? { uid: takeUid(), prefix: probe.prefix } : undefined;
            try {
                const env = baseStepEnv(settings);
                return await terraform.warm({
                    ...folder,
                    ...(sandbox ? { sandbox } : {}),
                    env,
                    log: () => undefined,
                    signal: stop.signal,
                });
            }
            finally {
                if (sandbox)
                    releaseUid(sandbox.uid);
            }
        });
        chain = warmed;
        warmups.set(node.name, warmed);
    }
    return {
        warmups,
        async dispose() {
            stop.abort();
            await chain;
        },
    };
}
function enginePorts(ws, graph, settings) {
    const steps = new EngineSteps(ws, graph, settings);
    return {
        dispose: () => steps.dispose(),
        stateOutputs: (node) => steps.stateOutputs(node),
        step: (request) => steps.step(request),
    };
}
/** A step's report when it failed before or after its engine ran. */
function failedStep(error, counts = ZERO, outputs = {}) {
    return { status: 'failed', counts, outputs, unknownOutputs: [], error };
}
const errorMessage = (e) => (e instanceof Error ? e.message : String(e));
/** Plan counts from a Terraform plan's summary. */
function countsOf(summary) {
    const { add, change, destroy, import: imported, forget, replace } = summary;
    return { add, change, destroy, import: imported, forget, replace };
}
/** The module steps of one graph: engines, warm-ups, the step's session and what its report says. */
class EngineSteps {
    ws;
    graph;
    settings;
    terraform = new TerraformEngine();
    warmups;
    dispose;
    constructor(ws, graph, settings) {
        this.ws = ws;
        this.graph = graph;
        this.settings = settings;
        const warm = warmAhead(this.terraform, graph, settings);
        this.warmups = warm.warmups;
        this.dispose = warm.dispose;
    }
    stateOutputs(node) {
        const { root, env, credentials } = this.settings;
        return moduleStateOutputs(root, this.graph, node, env ?? {}, credentials);
    }
    async step(request) {
        const { node, mode, inputs } = request;
        const manifest = node.manifest;
        if (!manifest)
            return failedStep(`module type ${node.type} has no manifest`);
        const secretInputs = Object.keys(inputs).filter((k) => request.sensitiveInputs.includes(k) || (0,build/* isSensitiveInput */.nh)(node, k));
        // Before the engine starts, so its very first line is already redacted.
        for (const k of secretInputs)
            this.settings.redactor.add(inputs[k]);
        const { site, environment } = this.graph;
        const log = this.settings.log.open(`${node.name} (${node.type}) — ${mode} ${site.name}/${environment.name}`);
        const watch = {};
        // What binding reads as this step's plan: Terraform's, or a command module's inputs and changes.
        const bindable = (changes) => watch.planned ?? (0,binding/* commandPlan */.By)(node.name, inputs, secretInputs, changes);
        let served;
        const sandbox = stepSandbox(this.settings, manifest);
        try {
            log.write(sandbox.line);
            const stepEnv = baseStepEnv(this.settings);
            try {
                served = await this.serveSession(node, mode, log, stepEnv);
            }
            catch (e) {
                log.write(`${errorMessage(e)}\n`);
                return failedStep(errorMessage(e));
            }
            const engineSettings = { stepEnv, served, log, sandbox: sandbox.sandbox };
            const r = await this.runEngine(request, manifest, engineSettings, watch, bindable);
            return this.report(request, manifest, r, log, watch, bindable);
        }
        finally {
            sandbox.release();
            await served?.close();
            log.close();
        }
    }
    /** The step sees only its own session: served on its loopback endpoint into `stepEnv`. */
    async serveSession(node, mode, log, stepEnv) {
        if (!this.settings.credentials)
            return undefined;
        const backend = backendFor(this.settings.root, this.graph, node);
        const served = await serveStepCredentials(this.settings.credentials, this.graph, node, backend, mode);
        if (!served)
            return undefined;
        const { session } = served;
        const hops = session.hops.length;
        log.write(`AWS session ${session.sessionName} as ${session.assumedRoleArn ?? session.roleArn} (${hops} hop${hops === 1 ? '' : 's'})\n`);
        Object.assign(stepEnv, served.env);
        return served;
    }
    runEngine(request, manifest, { stepEnv, served, log, sandbox }, watch, bindable) {
        const { node, mode, inputs, signal } = request;
        const warmup = this.warmups.get(node.name);
        this.warmups.delete(node.name);
        const engine = manifest.engine === 'terraform' ? this.terraform : engineFor(manifest.engine);
        return engine.run({
            mode,
            ...stepFolder(this.settings, this.graph, node, manifest),
            ...declaredOutputs(this.ws, manifest),
            ...(warmup ? { warmup } : {}),
            ...(sandbox ? { sandbox } : {}),
            inputs,
            env: stepEnv,
            // The step's own session (or the static keys its environment carries), for the state it writes.
            credentials: served?.credentials ?? (0,aws_s3/* staticKeys */.h)(stepEnv),
            log: (chunk) => log.write(chunk),
            onPlan: (plan) => {
                watch.planned = plan;
                this.settings.redactor.add(sensitivePlanValues(plan));
                watch.outputsProblem = manifestOutputsProblem(this.ws, manifest, plan);
            },
            // Refused before anything is applied: downstream modules would wait for what never comes;
            // and a plan that is not the reviewed one is never applied.
            beforeApply: (ready) => Promise.resolve(watch.outputsProblem ?? this.settings.beforeApply?.(node.name, bindable(ready.changes))),
            signal,
        });
    }
    /** The runner's report of a step the engine ran: counts from the plan, outputs registered as secrets. */
    report(request, manifest, r, log, watch, bindable) {
        const { node, mode, assumed } = request;
        if (watch.outputsProblem && r.status !== 'failed' && r.status !== 'cancelled')
            return failedStep(watch.outputsProblem);
        for (const [k, v] of Object.entries(r.outputs))
            if (v.sensitive || manifest.sensitiveOutputs.includes(k))
                this.settings.redactor.add(v.value);
        let summary;
        let counts = { ...ZERO, ...(r.changes ?? {}) };
        if (r.plan !== undefined && r.status !== 'cancelled') {
            try {
                summary = (0,plan_summary/* summarizePlan */.PN)(r.plan);
                counts = countsOf(summary);
            }
            catch (e) {
                if (r.status !== 'failed')
                    return failedStep(`could not read the plan of ${node.name}: ${errorMessage(e)}`, counts, r.outputs);
            }
        }
        if (r.error)
            log.write(`\n${r.error}\n`);
        return {
            status: r.status,
            counts,
            summary,
            outputs: r.outputs,
            unknownOutputs: r.unknownOutputs ?? [],
            planSha256: r.planSha256,
            ...(r.plan !== undefined ? { planDigest: (0,digest/* planDigest */.Gb)(r.plan) } : {}),
            ...(mode === 'plan' && (r.status === 'succeeded' || r.status === 'no-op')
                ? {
                    review: (0,binding/* reviewedModule */.ym)(bindable(r.changes), {
                        mocked: assumed.length > 0,
                        key: this.settings.bindingKey,
                    }),
                    reviewedPlan: (0,handoff/* normalizedPlan */.pR)(bindable(r.changes)),
                }
                : {}),
            error: r.error,
        };
    }
}

;// CONCATENATED MODULE: ./src/adapters/run/runtime.ts
/**
 * The local runtime of plan and apply: the site × environment's run lock, a private work folder
 * per run (removed afterwards, and by the next run if this process was killed), owner-only local
 * state, and engine-backed steps with their AWS sessions.
 */














/** A run folder's record of who made it, so a later run can tell when its owner is gone. */
const OWNER_FILE = 'owner.json';
/** A run folder's owner record, when it is one (written by `open` below). */
function ownerRecord(text) {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null)
        return undefined;
    const str = (k) => {
        const x = Reflect.get(v, k);
        return typeof x === 'string' ? x : undefined;
    };
    const pid = Reflect.get(v, 'pid');
    const [id, command, site, environment, host, user, started, run] = [
        'id',
        'command',
        'site',
        'environment',
        'host',
        'user',
        'started',
        'run',
    ].map(str);
    if (typeof pid !== 'number' || host === undefined)
        return undefined;
    const pidStart = str('pidStart');
    return {
        id: id ?? '',
        command: command ?? '',
        site: site ?? '',
        environment: environment ?? '',
        host,
        pid,
        ...(pidStart === undefined ? {} : { pidStart }),
        user: user ?? '',
        started: started ?? '',
        run: run ?? '',
    };
}
/** Removes the work folders of earlier runs whose process is gone (killed before it could clean up). */
async function removeOrphanedWork(base) {
    const entries = await (0,promises_.readdir)(base).catch(() => []);
    for (const name of entries.filter((n) => n.startsWith('run-'))) {
        const dir = (0,external_node_path_.join)(base, name);
        const owner = await (0,promises_.readFile)((0,external_node_path_.join)(dir, OWNER_FILE), 'utf8')
            .then(ownerRecord)
            .catch(() => undefined);
        if (owner && holderAlive(owner) === false)
            await (0,promises_.rm)(dir, { recursive: true, force: true });
    }
}
/**
 * A killed run whose lock this run took over: its work folders (by its lock id, in each base) are
 * read for the module steps it had started and removed, and the run is told, naming it.
 */
async function recoverDeadRun(dead, bases, reporter) {
    const steps = new Set();
    for (const base of bases)
        for (const name of (await (0,promises_.readdir)(base).catch(() => [])).filter((n) => n.startsWith('run-'))) {
            const dir = (0,external_node_path_.join)(base, name);
            const owner = await (0,promises_.readFile)((0,external_node_path_.join)(dir, OWNER_FILE), 'utf8')
                .then(ownerRecord)
                .catch(() => undefined);
            if (owner?.id !== dead.id)
                continue;
            for (const step of await startedSteps(dir))
                steps.add(step);
            await (0,promises_.rm)(dir, { recursive: true, force: true });
        }
    const started = [...steps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const run = dead.runId ? `run ${dead.runId}${dead.attempt ? `-${dead.attempt}` : ''}, ` : '';
    reporter.notice(`warning: took over the run lock of a killed run: ${run}${describeHolder(dead)} — its process is gone. ` +
        (started.length
            ? `It had started module step${started.length === 1 ? '' : 's'} ${started.join(', ')}: ` +
                'they may have stopped half-way, so check their state. '
            : 'It had started no module step. ') +
        'Its work folder was removed.');
    return {
        run: {
            id: dead.runId ?? null,
            attempt: dead.attempt ?? null,
            url: dead.run && dead.run !== 'local' ? dead.run : null,
        },
        command: dead.command,
        host: dead.host,
        pid: dead.pid,
        user: dead.user,
        started_at: dead.started,
        steps: started,
    };
}
/** Makes local state files (and their backups) readable by their owner only. */
async function protectLocalState(root, graph) {
    for (const node of graph.nodes) {
        const path = localStatePath(root, graph.site.name, graph.environment.name, node.name);
        for (const p of [path, `${path}.backup`]) {
            const s = await (0,promises_.stat)(p).catch(() => undefined);
            if (s && (s.mode & 0o077) !== 0)
                await (0,promises_.chmod)(p, 0o600);
        }
    }
}
/** The S3 run lock beside the state, reached with a session allowed only that object. */
async function s3Lock(o, graph, mode) {
    const lock = (0,build/* s3LockObject */.XW)(graph);
    if (!lock)
        return undefined;
    const c = o.credentials;
    const identity = {
        site: graph.site.name,
        environment: graph.environment.name,
        module: build/* RUN_LOCK */.eM,
        services: [],
        stateObject: { bucket: lock.bucket, key: lock.key },
        repository: c?.ctx.repository,
        runId: c?.ctx.runId,
        actor: c?.ctx.actor,
        purpose: mode,
    };
    const session = c && graph.credentials ? await c.broker.get(graph.credentials, identity) : undefined;
    return {
        client: await (0,aws_s3.s3Client)(lock.region, o.stepEnv ?? {}, session?.credentials),
        bucket: lock.bucket,
        key: lock.key,
    };
}
/**
 * Where a run's own work folder goes (each run gets one, so two runs in one checkout never empty
 * each other's), with the folders of earlier runs whose owner is gone removed.
 */
async function workBase(o, root, graph) {
    const base = (0,external_node_path_.join)(o.workRoot ?? (0,external_node_path_.join)((0,tool_dir/* toolDir */.O)(root), 'work'), graph.site.name, graph.environment.name);
    await (0,promises_.mkdir)(base, { recursive: true, mode: 0o700 });
    await removeOrphanedWork(base);
    return base;
}
/** Whether a uid of no group may pass through `dir` (or, not made yet, its nearest existing folder). */
function passable(dir) {
    let p = dir;
    while (!(0,external_node_fs_.existsSync)(p) && (0,external_node_path_.dirname)(p) !== p)
        p = (0,external_node_path_.dirname)(p);
    for (;; p = (0,external_node_path_.dirname)(p)) {
        if (((0,external_node_fs_.statSync)(p).mode & 0o001) === 0)
            return false;
        if ((0,external_node_path_.dirname)(p) === p)
            return true;
    }
}
/**
 * Where a sandboxed run's work folders may go: the configured work root (the runner's temp
 * folder, in the action) when every step's uid can pass through it, else `<tmp>/site-deploy-work`;
 * undefined when neither is reachable.
 */
function sandboxBaseFor(o) {
    if (o.workRoot !== undefined && passable(o.workRoot))
        return o.workRoot;
    const tmp = (0,external_node_path_.join)((0,external_node_os_.tmpdir)(), 'site-deploy-work');
    return passable(tmp) ? tmp : undefined;
}
/** The run's isolation: the sandbox where this machine has it and every module's engine uses it. */
function runIsolation(probe, graph, terraformBinary, base) {
    if (probe.isolation !== 'namespace')
        return { isolation: 'none', reason: probe.reason };
    if (base === undefined)
        return {
            isolation: 'none',
            reason: `no work folder a step's uid can reach (the temp folder is ${(0,external_node_os_.tmpdir)()})`,
        };
    for (const n of graph.nodes) {
        const why = n.manifest && unsandboxedEngine(n.manifest.engine, terraformBinary);
        if (why)
            return { isolation: 'none', reason: `${n.name}: ${why}` };
    }
    return { isolation: 'namespace' };
}
/**
 * Makes the base of a sandboxed run's work folder ({@link sandboxBaseFor}): anyone may pass through
 * but not list it (0711), so each step's own folder (0700, its uid's) is reachable by it — a
 * checkout's folders usually are not.
 */
async function sandboxWorkBase(base) {
    await (0,promises_.mkdir)(base, { recursive: true, mode: 0o711 });
    await (0,promises_.chmod)(base, 0o711);
    await removeOrphanedWork(base);
    return base;
}
/** Takes the run lock, makes the work folder and the engine-backed steps; `close` undoes all of it. */
async function openRun(o, run) {
    const { root, graph } = run;
    const probe = probeIsolation();
    const sandboxBase = sandboxBaseFor(o);
    const isolation = runIsolation(probe, graph, o.terraformBinary, sandboxBase);
    if (run.requireIsolation && isolation.isolation !== 'namespace')
        throw new errors/* SiteDeployError */.PB('refused', `require-isolation: module steps cannot be sandboxed here (${isolation.reason ?? 'unknown'}); nothing was run`);
    run.reporter.notice(`isolation: ${isolation.isolation}${isolation.reason ? ` (${isolation.reason})` : ''}`);
    await (0,tool_dir/* ensureToolDir */.a)(root);
    const lock = await acquireRunLock({
        root,
        site: graph.site.name,
        environment: graph.environment.name,
        command: run.mode,
        timeoutMs: run.lockTimeoutMs,
        run: o.runUrl,
        ...(run.runId ? { runId: run.runId } : {}),
        s3: await s3Lock(o, graph, run.mode),
        onWait: (holder, where) => run.reporter.notice(`waiting for the run lock (${where}), held by ${describeHolder(holder)}`),
    });
    let workRoot;
    let ports;
    const close = async () => {
        try {
            // No warm-up may still be writing into the folders about to go.
            await ports?.dispose();
            if (workRoot && !process.env.SITE_DEPLOY_KEEP_WORK)
                await (0,promises_.rm)(workRoot, { recursive: true, force: true });
            await protectLocalState(root, graph);
        }
        finally {
            await lock.release();
        }
    };
    try {
        const ownBase = (0,external_node_path_.join)(o.workRoot ?? (0,external_node_path_.join)((0,tool_dir/* toolDir */.O)(root), 'work'), graph.site.name, graph.environment.name);
        const recovered = lock.recovered
            ? await recoverDeadRun(lock.recovered, [ownBase, ...(sandboxBase ? [sandboxBase] : [])], run.reporter)
            : undefined;
        // Removed afterwards: saved plans hold sensitive values in plaintext.
        // All or nothing: a run with a step that cannot be sandboxed runs none sandboxed, and says so.
        const sandboxed = isolation.isolation === 'namespace';
        // The checkout's work folder is cleaned of dead runs' folders either way (a sandboxed run may
        // follow one that was not).
        const own = await workBase(o, root, graph);
        const base = sandboxed && sandboxBase !== undefined ? await sandboxWorkBase(sandboxBase) : own;
        workRoot = await (0,promises_.mkdtemp)((0,external_node_path_.join)(base, 'run-'));
        if (sandboxed)
            await (0,promises_.chmod)(workRoot, 0o711);
        await (0,promises_.writeFile)((0,external_node_path_.join)(workRoot, OWNER_FILE), JSON.stringify(lock.holder), { mode: 0o600 });
        await protectLocalState(root, graph);
        ports = enginePorts(run.workspace, graph, {
            root,
            workRoot,
            terraformBinary: o.terraformBinary,
            lockTimeout: o.lockTimeout,
            log: new GroupedLog(run.reporter.engine),
            redactor: run.redactor,
            env: o.stepEnv,
            credentials: o.credentials,
            beforeApply: run.beforeApply,
            ...(run.bindingKey ? { bindingKey: run.bindingKey } : {}),
            isolation: sandboxed ? probe : { isolation: 'none', reason: isolation.reason, prefix: [] },
        });
        return { ports, close, isolation, ...(recovered ? { recovered } : {}) };
    }
    catch (e) {
        await close();
        throw e;
    }
}
/** The runtime that runs steps on this machine. */
function localRuntime(o) {
    return {
        open: (run) => openRun(o, run),
        stateOutputs: (root, graph, node) => moduleStateOutputs(root, graph, node, o.stepEnv ?? {}, o.credentials),
        async forceUnlock(root, graph) {
            const { removed, holders } = await forceUnlock(root, graph.site.name, graph.environment.name, await s3Lock(o, graph, 'apply'));
            return { removed, holders: holders.map((h) => describeHolder(h)) };
        },
    };
}


/***/ })

};
