/** Validation rules shared by several DTOs: ids and names are checked before they touch a path. */
export const CONTAINER_ID = /^[0-9a-f]{64}$/;
/** docker's rule for container names */
export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
/** an image reference: [registry[:port]/]name[:tag][@digest], lower-case repository names (docker's grammar: lib/image-ref.ts) */
export const IMAGE_REF = /^(((\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*)(:[0-9]+)?)\/)?[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(\/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
export const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
export const ENV_ENTRY = /^[^=\0]+=[^\0]*$/;
/** a label as given: KEY or KEY=VALUE (KEY not empty) */
export const LABEL_ENTRY = /^[^=\0]+(=[^\0]*)?$/;
/** docker's -u: USER[:GROUP], each a name or a numeric id (names resolved in the container's /etc/passwd and /etc/group) */
export const USER_SPEC = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31})?$/;
export const USER_SPEC_MESSAGE = 'user must be USER[:GROUP] (names or numeric ids)';
