/*
 * aws_auth_plugin.c - a stand-in for Amazon RDS's server-side IAM authentication plugin,
 * for the rdsdeck sandbox's private MariaDB 10.11.
 *
 * It registers an authentication plugin named `AWSAuthenticationPlugin`, so the SQL of the
 * RDS bootstrap runs unchanged:
 *
 *     CREATE USER 'node_app'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';
 *
 * Like RDS it asks the client to switch to `mysql_clear_password`, reads one packet (the IAM
 * token, with or without its trailing NUL) and decides. It does not judge the token itself:
 * it runs a verifier program (sandbox/db/verify_token.py behind a wrapper) with
 *
 *     argv   = { VERIFIER, "--user=<login user>", "--client-host=<client host or ip>", NULL }
 *     stdin  = the token (an in-memory file; the token never appears in argv/env/logs)
 *     stdout+stderr -> captured; one line per failure is copied into the server error log
 *
 * and accepts the login (CR_OK) only when the verifier exits 0 within VERIFIER_TIMEOUT_S.
 * VERIFIER is the value of the environment variable AWS_AUTH_VERIFIER of the server process,
 * or, when that is unset or empty, the file `aws_auth_verifier` in the directory this .so was
 * loaded from. No shell is involved: the user name goes into argv via execv.
 *
 * Build (no MariaDB headers needed; the ABI below is declared by hand):
 *     gcc -shared -fPIC -O2 -Wall -o aws_auth_plugin.so aws_auth_plugin.c
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------
 * MariaDB 10.11 plugin ABI, declared by hand (include/mysql/plugin.h, plugin_auth.h,
 * plugin_auth_common.h). Checked by the server at load time: interface version, sizeof of
 * st_maria_plugin (104 on x86-64), auth interface version, maturity.
 * ---------------------------------------------------------------------------------------- */
#define MARIA_PLUGIN_INTERFACE_VERSION 0x010f
#define MYSQL_AUTHENTICATION_PLUGIN 7
#define MYSQL_AUTHENTICATION_INTERFACE_VERSION 0x0202
#define PLUGIN_LICENSE_GPL 1
#define MariaDB_PLUGIN_MATURITY_STABLE 5 /* UNKNOWN 0, EXPERIMENTAL, ALPHA, BETA, GAMMA 4, STABLE 5 */

#define CR_ERROR 0
#define CR_OK -1
#define PASSWORD_USED_YES 1
#define MYSQL_USERNAME_LENGTH 512

struct st_maria_plugin {
    int type;                         /*   0 */
    void *info;                       /*   8 */
    const char *name;                 /*  16 */
    const char *author;               /*  24 */
    const char *descr;                /*  32 */
    int license;                      /*  40 */
    int (*init)(void *);              /*  48 */
    int (*deinit)(void *);            /*  56 */
    unsigned int version;             /*  64 */
    void *status_vars;                /*  72: struct st_mysql_show_var * */
    void **system_vars;               /*  80: struct st_mysql_sys_var ** */
    const char *version_info;         /*  88 */
    unsigned int maturity;            /*  96 */
};                                    /* 104 */

typedef struct st_plugin_vio {
    int (*read_packet)(struct st_plugin_vio *vio, unsigned char **buf);
    int (*write_packet)(struct st_plugin_vio *vio, const unsigned char *packet, int packet_len);
    void (*info)(struct st_plugin_vio *vio, void *info);
} MYSQL_PLUGIN_VIO;

typedef struct st_mysql_server_auth_info {
    const char *user_name;                            /*    0 */
    unsigned int user_name_length;                    /*    8 */
    const char *auth_string;                          /*   16 */
    unsigned long auth_string_length;                 /*   24 */
    char authenticated_as[MYSQL_USERNAME_LENGTH + 1]; /*   32 */
    char external_user[MYSQL_USERNAME_LENGTH + 1];    /*  545 */
    int password_used;                                /* 1060 */
    const char *host_or_ip;                           /* 1064 */
    unsigned int host_or_ip_length;                   /* 1072 */
    void *thd;                                        /* 1080 */
} MYSQL_SERVER_AUTH_INFO;

struct st_mysql_auth {
    int interface_version;
    const char *client_auth_plugin;
    int (*authenticate_user)(MYSQL_PLUGIN_VIO *vio, MYSQL_SERVER_AUTH_INFO *info);
    int (*hash_password)(const char *password, size_t password_length, char *hash,
                         size_t *hash_length);
    int (*preprocess_hash)(const char *hash, size_t hash_length, unsigned char *out,
                           size_t *out_length);
};

_Static_assert(sizeof(struct st_maria_plugin) == 104, "st_maria_plugin must be 104 bytes");
_Static_assert(__builtin_offsetof(MYSQL_SERVER_AUTH_INFO, password_used) == 1060, "layout");
_Static_assert(__builtin_offsetof(MYSQL_SERVER_AUTH_INFO, host_or_ip) == 1064, "layout");

/* ------------------------------------------------------------------------------------------ */

#define PLUGIN_NAME "AWSAuthenticationPlugin"
#define VERIFIER_ENV "AWS_AUTH_VERIFIER"
#define VERIFIER_FILE "aws_auth_verifier"
#define VERIFIER_TIMEOUT_S 20
#define MAX_TOKEN 16384   /* real tokens: ~400 bytes, ~1.5 KB with a session token */
#define MAX_REASON 1024

static char plugin_dir_verifier[PATH_MAX];

static void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(const char *level, const char *fmt, ...)
{
    /* The server's stderr is its error log (log-error); mimic its line format. */
    char msg[MAX_REASON + 512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    fprintf(stderr, "%04d-%02d-%02d %2d:%02d:%02d 0 [%s] %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, level, PLUGIN_NAME, msg);
    fflush(stderr);
}

/* Copy s[0..n) keeping printable ASCII only (names and reasons end up in the error log). */
static void printable(char *dst, size_t dstsz, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < dstsz; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[j] = 0;
}

static int plugin_init(void *p)
{
    (void)p;
    Dl_info dl;
    plugin_dir_verifier[0] = 0;
    if (dladdr((void *)plugin_init, &dl) && dl.dli_fname) {
        const char *slash = strrchr(dl.dli_fname, '/');
        if (slash) {
            int n = snprintf(plugin_dir_verifier, sizeof plugin_dir_verifier, "%.*s/%s",
                             (int)(slash - dl.dli_fname), dl.dli_fname, VERIFIER_FILE);
            if (n < 0 || (size_t)n >= sizeof plugin_dir_verifier)
                plugin_dir_verifier[0] = 0;
        }
    }
    const char *env = getenv(VERIFIER_ENV);
    log_line("Note", "loaded; verifier: %s",
             env && *env ? env : (plugin_dir_verifier[0] ? plugin_dir_verifier : "(none)"));
    return 0;
}

static int plugin_deinit(void *p)
{
    (void)p;
    return 0;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the verifier; returns its exit status (0 = accept), or -1 on any failure of our own.
 * reason receives the verifier's first output line (or our own reason). */
static int run_verifier(const char *prog, const char *user, const char *client_host,
                        const unsigned char *token, size_t token_len, char *reason,
                        size_t reasonsz)
{
    int status = -1, memfd = -1, out[2] = {-1, -1};
    pid_t pid = -1;
    char arg_user[MYSQL_USERNAME_LENGTH + 16], arg_host[300];
    reason[0] = 0;

    snprintf(arg_user, sizeof arg_user, "--user=%s", user);
    snprintf(arg_host, sizeof arg_host, "--client-host=%s", client_host);
    char *const argv[] = {(char *)prog, arg_user, arg_host, NULL};

    /* The token goes in an in-memory file: no pipe to deadlock on, no SIGPIPE, no disk. */
    memfd = memfd_create("aws-auth-token", MFD_CLOEXEC);
    if (memfd < 0) {
        snprintf(reason, reasonsz, "memfd_create: %s", strerror(errno));
        goto done;
    }
    for (size_t off = 0; off < token_len;) {
        ssize_t w = write(memfd, token + off, token_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(reason, reasonsz, "write token: %s", strerror(errno));
            goto done;
        }
        off += (size_t)w;
    }
    if (lseek(memfd, 0, SEEK_SET) != 0) {
        snprintf(reason, reasonsz, "lseek: %s", strerror(errno));
        goto done;
    }
    /* O_CLOEXEC on both ends: children forked concurrently by other threads must not keep
     * our write end open (we would never see EOF). */
    if (pipe2(out, O_CLOEXEC) != 0) {
        snprintf(reason, reasonsz, "pipe2: %s", strerror(errno));
        goto done;
    }

    pid = fork();
    if (pid < 0) {
        snprintf(reason, reasonsz, "fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        /* Child of a multi-threaded server: async-signal-safe calls only. */
        sigset_t all;
        sigemptyset(&all);
        for (int s = 1; s < NSIG; s++) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = SIG_DFL;
            sigaction(s, &sa, NULL); /* fails harmlessly for SIGKILL/SIGSTOP/RT internals */
        }
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (dup2(memfd, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
            _exit(126);
        /* Close every other inherited descriptor (client sockets, table files...). */
        if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
            long max = sysconf(_SC_OPEN_MAX);
            for (long fd = 3; fd < (max > 0 ? max : 65536); fd++)
                close((int)fd);
        }
        execv(prog, argv);
        _exit(127);
    }

    close(out[1]);
    out[1] = -1;
    close(memfd);
    memfd = -1;

    /* Collect output until EOF or the deadline. */
    char buf[4096];
    size_t got = 0;
    double deadline = mono_now() + VERIFIER_TIMEOUT_S;
    int timed_out = 0;
    for (;;) {
        double left = deadline - mono_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        if (pr == 0)
            continue;
        char tmp[1024];
        ssize_t r = read(out[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t keep = (size_t)r;
        if (keep > sizeof buf - 1 - got)
            keep = sizeof buf - 1 - got;
        memcpy(buf + got, tmp, keep);
        got += keep;
    }
    buf[got] = 0;

    if (timed_out)
        kill(pid, SIGKILL);
    int ws = 0;
    for (;;) {
        pid_t w = waitpid(pid, &ws, timed_out ? 0 : WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            ws = -1;
            break;
        }
        /* EOF seen but not exited yet (closed its stdout early): give it until the deadline. */
        if (mono_now() > deadline) {
            kill(pid, SIGKILL);
            timed_out = 1;
            continue;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pid = -1;

    /* First non-empty line of the verifier's output is its reason. */
    char *line = buf;
    while (*line == '\n' || *line == '\r')
        line++;
    size_t ll = strcspn(line, "\r\n");
    printable(reason, reasonsz, line, ll);

    if (timed_out) {
        snprintf(reason, reasonsz, "verifier timed out after %d s", VERIFIER_TIMEOUT_S);
        status = -1;
    } else if (ws == -1) {
        snprintf(reason, reasonsz, "waitpid: %s", strerror(errno));
        status = -1;
    } else if (WIFEXITED(ws)) {
        status = WEXITSTATUS(ws);
        if (status == 127 && !reason[0])
            snprintf(reason, reasonsz, "cannot execute verifier %.900s", prog);
    } else if (WIFSIGNALED(ws)) {
        if (!reason[0])
            snprintf(reason, reasonsz, "verifier killed by signal %d", WTERMSIG(ws));
        status = -1;
    }

done:
    if (memfd >= 0)
        close(memfd);
    if (out[0] >= 0)
        close(out[0]);
    if (out[1] >= 0)
        close(out[1]);
    return status;
}

static int authenticate(MYSQL_PLUGIN_VIO *vio, MYSQL_SERVER_AUTH_INFO *info)
{
    unsigned char *pkt = NULL;
    /* No packet written before this read: the server sends the auth switch request naming
     * our client plugin (mysql_clear_password), exactly as RDS does. */
    int len = vio->read_packet(vio, &pkt);
    if (len < 0)
        return CR_ERROR;

    /* raw_user goes to the verifier (argv, no shell: any bytes but NUL are fine); user, the
     * printable form, goes to the error log. */
    char raw_user[MYSQL_USERNAME_LENGTH + 1], user[MYSQL_USERNAME_LENGTH + 1], host[256];
    size_t ulen = info->user_name ? strnlen(info->user_name, info->user_name_length) : 0;
    if (ulen > MYSQL_USERNAME_LENGTH)
        ulen = MYSQL_USERNAME_LENGTH;
    memcpy(raw_user, info->user_name ? info->user_name : "", ulen);
    raw_user[ulen] = 0;
    printable(user, sizeof user, raw_user, ulen);
    printable(host, sizeof host, info->host_or_ip ? info->host_or_ip : "",
              info->host_or_ip ? info->host_or_ip_length : 0);

    /* mysql_clear_password sends the password plus a NUL; accept it without too. */
    size_t n = strnlen((const char *)pkt, (size_t)len);
    if (n > 0)
        info->password_used = PASSWORD_USED_YES; /* "(using password: YES)" in 1045, as on RDS */
    if (n == 0) {
        log_line("Warning", "access denied for '%s'@'%s': empty token", user, host);
        return CR_ERROR;
    }
    if (n > MAX_TOKEN) {
        log_line("Warning", "access denied for '%s'@'%s': token too long (%zu bytes)", user, host, n);
        return CR_ERROR;
    }

    const char *prog = getenv(VERIFIER_ENV);
    if (!prog || !*prog)
        prog = plugin_dir_verifier;
    if (!*prog || prog[0] != '/') {
        log_line("ERROR", "access denied for '%s'@'%s': no verifier (set %s to an absolute path)",
                 user, host, VERIFIER_ENV);
        return CR_ERROR;
    }

    char reason[MAX_REASON];
    int rc = run_verifier(prog, raw_user, host, pkt, n, reason, sizeof reason);
    if (rc == 0)
        return CR_OK;
    log_line("Warning", "access denied for '%s'@'%s': %s", user, host,
             reason[0] ? reason : "rejected by the verifier");
    return CR_ERROR;
}

static struct st_mysql_auth aws_auth_handler = {
    MYSQL_AUTHENTICATION_INTERFACE_VERSION,
    "mysql_clear_password",
    authenticate,
    NULL, /* hash_password: no password hashing, the AS string ('RDS') is stored as is */
    NULL, /* preprocess_hash */
};

/* What MARIA_DECLARE_PLUGIN / maria_declare_plugin_end expand to. */
__attribute__((visibility("default"))) int _maria_plugin_interface_version_ =
    MARIA_PLUGIN_INTERFACE_VERSION;
__attribute__((visibility("default"))) int _maria_sizeof_struct_st_plugin_ =
    sizeof(struct st_maria_plugin);
__attribute__((visibility("default"))) struct st_maria_plugin _maria_plugin_declarations_[] = {
    {
        MYSQL_AUTHENTICATION_PLUGIN,
        &aws_auth_handler,
        PLUGIN_NAME,
        "rdsdeck sandbox",
        "IAM database authentication stand-in for the rdsdeck sandbox (verifies tokens with an external program)",
        PLUGIN_LICENSE_GPL,
        plugin_init,
        plugin_deinit,
        0x0100,
        NULL,
        NULL,
        "1.0",
        MariaDB_PLUGIN_MATURITY_STABLE,
    },
    {0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0},
};
