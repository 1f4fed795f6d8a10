export const id = 706;
export const ids = [706];
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


/***/ })

};
