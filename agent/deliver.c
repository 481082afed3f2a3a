/* deliver.c: the report leaves the run here, the only module that talks to the network: to the
 * [report] endpoint with libcurl (post, put, GCE guest attributes, AWS IMDSv2 + post), into the
 * instance (report file, history, spool of undelivered reports), onto the console (summary
 * lines and the chunked machine-readable report), and finally the reboot or poweroff. */
#include "deliver.h"

/* The plain prototypes, not curl's type-checking macros: the functions are called through the
 * pointers below. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "report.h"
#include "root.h"
#include "spawn.h"

#ifndef SSHRESCUE_VERSION
#define SSHRESCUE_VERSION "0"
#endif

/* libcurl is loaded when a report is to be delivered, not when sshrescue starts: it brings
 * some 30 shared libraries (TLS, HTTP/2, IDN, LDAP, Kerberos) whose loading and relocation
 * cost more than a whole repair of a small instance. The static build (make static) has a
 * libcurl of its own linked in (http and https over mbed TLS): a static binary cannot dlopen. */
#define LIBCURL_SONAME "libcurl.so.4"
static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
} lc;

/* 0, or -ENOENT with why filled when libcurl or one of its functions is missing. */
#ifdef SSHRESCUE_STATIC
static int libcurl_load(char *why, size_t size)
{
	(void)why;
	(void)size;
	lc.global_init = curl_global_init;
	lc.global_cleanup = curl_global_cleanup;
	lc.easy_init = curl_easy_init;
	lc.easy_setopt = curl_easy_setopt;
	lc.easy_perform = curl_easy_perform;
	lc.easy_getinfo = curl_easy_getinfo;
	lc.easy_cleanup = curl_easy_cleanup;
	lc.easy_strerror = curl_easy_strerror;
	lc.free = curl_free;
	lc.slist_append = curl_slist_append;
	lc.slist_free_all = curl_slist_free_all;
	lc.url = curl_url;
	lc.url_cleanup = curl_url_cleanup;
	/* const CURLU * in the newer header this table was written for */
	lc.url_get = (__typeof__(lc.url_get))curl_url_get;
	lc.url_set = curl_url_set;
	return 0;
}
#else
static int libcurl_load(char *why, size_t size)
{
	static void *handle;
	if (handle)
		return 0;
	void *h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, size, "cannot load %s: %s", LIBCURL_SONAME, dlerror());
		return -ENOENT;
	}
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
#define SYM(f) { "curl_" #f, offsetof(__typeof__(lc), f) }
		SYM(global_init), SYM(global_cleanup), SYM(easy_init),	    SYM(easy_setopt),
		SYM(easy_perform), SYM(easy_getinfo),  SYM(easy_cleanup),   SYM(easy_strerror),
		SYM(free),	   SYM(slist_append),  SYM(slist_free_all), SYM(url),
		SYM(url_cleanup),  SYM(url_get),       SYM(url_set),
#undef SYM
	};
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f) {
			snprintf(why, size, "%s lacks %s", LIBCURL_SONAME, syms[i].name);
			dlclose(h);
			memset(&lc, 0, sizeof(lc));
			return -ENOENT;
		}
		memcpy((char *)&lc + syms[i].offset, &f, sizeof(f));
	}
	handle = h;
	return 0;
}
#endif
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init lc.global_init
#define curl_global_cleanup lc.global_cleanup
#define curl_easy_init lc.easy_init
#define curl_easy_setopt lc.easy_setopt
#define curl_easy_perform lc.easy_perform
#define curl_easy_getinfo lc.easy_getinfo
#define curl_easy_cleanup lc.easy_cleanup
#define curl_easy_strerror lc.easy_strerror
#define curl_free lc.free
#define curl_slist_append lc.slist_append
#define curl_slist_free_all lc.slist_free_all
#define curl_url lc.url
#define curl_url_cleanup lc.url_cleanup
#define curl_url_get lc.url_get
#define curl_url_set lc.url_set

#define SPOOL_DIR "/var/lib/sshrescue/spool"
#define HISTORY_KEEP 20 /* reports kept in the history beside [report] file */
#define SPOOL_KEEP 50   /* undelivered reports kept; the oldest go first */
#define SPOOL_MAX_FILE (8u << 20)
#define RESPONSE_MAX (256u << 10)
#define BACKOFF_BASE_MS 1000ul
#define BACKOFF_CAP_MS 16000ul
#define ATTEMPT_MIN_MS 50 /* less time than this left: no point starting a transfer */
#define IMDS_TIMEOUT_MS 3000l
#define IMDS_TOKEN_TTL "300"
#define IMDS_DEFAULT "http://169.254.169.254"
#define GCE_DEFAULT "http://metadata.google.internal"
#define GCE_ATTR_PATH "/computeMetadata/v1/instance/guest-attributes/sshrescue/"

/* ---- pure pieces: console chunks, backoff, retry decision, after ---- */

/* Where the chunk starting at off ends: at most DELIVER_CHUNK_MAX bytes, and never inside a
 * UTF-8 sequence, so a console reader that decodes line by line sees whole characters. */
static size_t chunk_end(const char *s, size_t len, size_t off)
{
	size_t end = off + DELIVER_CHUNK_MAX;
	if (end >= len)
		return len;
	size_t e = end;
	while (e > off && e > end - 4 && ((unsigned char)s[e] & 0xc0) == 0x80)
		e--;
	return e > off && ((unsigned char)s[e] & 0xc0) != 0x80 ? e : end;
}

int deliver_console_chunks(const char *run_id, const char *json, size_t len, struct strv *lines)
{
	if (!run_id || !*run_id || len == 0 || memchr(json, '\n', len) || memchr(json, '\r', len) ||
	    memchr(json, '\0', len))
		return -EINVAL;
	for (const char *c = run_id; *c; c++)
		if (!(('0' <= *c && *c <= '9') || ('a' <= *c && *c <= 'z') ||
		      ('A' <= *c && *c <= 'Z') || strchr("._:-", *c)))
			return -EINVAL;
	size_t n = 0;
	for (size_t off = 0; off < len; off = chunk_end(json, len, off))
		n++;
	size_t i = 0;
	for (size_t off = 0; off < len;) {
		size_t end = chunk_end(json, len, off);
		strv_push_owned(lines, xasprintf(DELIVER_CONSOLE_PREFIX " %s %zu/%zu %08x %.*s", run_id,
						 ++i, n, (unsigned)crc32(0, (const Bytef *)json + off, (uInt)(end - off)),
						 (int)(end - off), json + off));
		off = end;
	}
	return 0;
}

/* Before attempt k (k >= 2): base * 2^(k-2), capped, with "equal jitter" (half fixed, half
 * random), so a fleet rebooting together does not hit a collector in lock step. */
unsigned long deliver_backoff_ms(unsigned attempt, uint32_t rnd)
{
	if (attempt < 2)
		return 0;
	unsigned long d = BACKOFF_BASE_MS;
	for (unsigned k = 2; k < attempt && d < BACKOFF_CAP_MS; k++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	return d / 2 + rnd % (d / 2 + 1);
}

/* A server that is busy, rate limiting or failing may answer the next attempt; any other
 * answer (400, 401, 404, a redirect) will be the same next time. */
bool deliver_http_retryable(long status)
{
	return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

int deliver_after_plan(int action, bool is_init, bool systemd, struct deliver_after_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	if (action == AFTER_NONE)
		return 0;
	if (action != AFTER_REBOOT && action != AFTER_POWEROFF)
		return -EINVAL;
	bool restart = action == AFTER_REBOOT;
	if (is_init) {
		/* As the rescue image's init nobody else would do it, and an init that exits
		 * panics the kernel. */
		plan->reboot_cmd = restart ? RB_AUTOBOOT : RB_POWER_OFF;
	} else if (systemd) {
		plan->argv[0] = "systemctl";
		plan->argv[1] = restart ? "reboot" : "poweroff";
	} else {
		/* sysvinit, busybox, OpenRC: their reboot/poweroff ask init to do it */
		plan->argv[0] = restart ? "reboot" : "poweroff";
	}
	return 0;
}

#define AFTER_TIMEOUT_MS 60000

int deliver_after(int action, bool is_init)
{
	struct deliver_after_plan plan;
	struct stat st;
	bool systemd = lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
	int rc = deliver_after_plan(action, is_init, systemd, &plan);
	if (rc < 0 || (!plan.reboot_cmd && !plan.argv[0]))
		return rc;
	sync();
	if (plan.reboot_cmd) {
		if (reboot(plan.reboot_cmd) < 0)
			return -errno;
		return 0;
	}
	/* runs after the target is released and the report is out: its own budget */
	struct spawn_opts so = { .flags = SPAWN_OWN_BUDGET | SPAWN_MERGE_STDERR,
				 .timeout_ms = AFTER_TIMEOUT_MS };
	struct spawn_result sr;
	if ((rc = spawn_run((char *const *)plan.argv, &so, &sr)) < 0)
		return rc;
	rc = sr.how == SPAWN_NOT_STARTED ? -sr.error : spawn_ok(&sr) ? 0 : -ECHILD;
	spawn_result_free(&sr);
	return rc;
}

/* ---- time ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	int64_t until = mono_ms() + ms;
	for (int64_t left = ms; left > 0; left = until - mono_ms()) {
		struct timespec ts = { .tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
}

static uint32_t random_u32(void)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)mono_ms() ^ ((uint32_t)getpid() << 16);
	return r;
}

/* ---- one HTTP request ---- */

struct deliver {
	const struct config *cfg;
	int64_t deadline; /* monotonic ms */
	char *ca_blob;    /* system bundle + [report] ca_file, PEM */
	size_t ca_blob_len;
	const char *ca_path; /* static build, no ca_file: the system's bundle */
	char *shown_url; /* the url without credentials or query, for messages and the report */
};

struct http_req {
	const char *method; /* GET, PUT, POST */
	const char *url;
	const char *body;
	size_t body_len;
	struct curl_slist *headers;
	bool direct;    /* a metadata server: never through a proxy */
	int64_t until;  /* monotonic ms by which the request must be over */
	struct buf *response;
};

struct http_res {
	long status;   /* HTTP status, 0 when there was no answer */
	CURLcode code;
	char why[CURL_ERROR_SIZE + 64];
};

static size_t on_response(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	if (!b)
		return size * n;
	/* over its max (RESPONSE_MAX): 0 ends the transfer with an error */
	return buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

/* The CA bundle of the system sshrescue runs on. A distribution's libcurl knows its own; the
 * static one (built without a default: it runs on every distribution) looks where each keeps
 * it, after SSL_CERT_FILE as OpenSSL reads it. NULL when there is none. */
static const char *ca_bundle_system(CURL *probe)
{
	char *known = NULL;
	if (curl_easy_getinfo(probe, CURLINFO_CAINFO, &known) == CURLE_OK && known && *known)
		return known;
#ifdef SSHRESCUE_STATIC
	static const char *const bundles[] = {
		NULL,						/* SSL_CERT_FILE */
		"/etc/ssl/certs/ca-certificates.crt",		/* Debian, Ubuntu, Arch, Gentoo */
		"/etc/pki/tls/certs/ca-bundle.crt",		/* RHEL, Fedora, Amazon Linux */
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+ */
		"/etc/ssl/ca-bundle.pem",			/* openSUSE, SLES */
		"/etc/ssl/cert.pem",				/* Alpine, BSDs */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bundles); i++) {
		const char *f = i == 0 ? getenv("SSL_CERT_FILE") : bundles[i];
		if (f && *f && access(f, R_OK) == 0)
			return f;
	}
#endif
	return NULL;
}

static void ca_blob_load(struct deliver *d, CURL *probe)
{
	const char *ca = d->cfg->report_ca_file;
#ifdef SSHRESCUE_STATIC
	/* without a ca_file, the static libcurl is told the system's bundle */
	const char *sys_only = ca_bundle_system(probe);
	if ((!ca || !*ca) && sys_only) {
		d->ca_path = sys_only;
		return;
	}
#endif
	if (!ca || !*ca)
		return;
	/* CURLOPT_CAINFO would replace the system store, but ca_file adds a CA (a private
	 * collector's) to it: hand libcurl both, as one PEM blob. */
	struct buf b = { 0 };
	const char *sys = ca_bundle_system(probe);
	if (sys) {
		_cleanup_fclose_ FILE *f = fopen(sys, "re");
		char chunk[8192];
		size_t n;
		while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&b, chunk, n);
		buf_puts(&b, "\n");
	}
	_cleanup_fclose_ FILE *f = fopen(ca, "re");
	if (!f) {
		say("delivery: %s: cannot read the CA file: %s", ca, strerror(errno));
	} else {
		char chunk[8192];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&b, chunk, n);
	}
	d->ca_blob = b.data;
	d->ca_blob_len = b.len;
}

static int http_do(struct deliver *d, const struct http_req *rq, struct http_res *rs)
{
	memset(rs, 0, sizeof(*rs));
	int64_t left = rq->until - mono_ms();
	if (left < ATTEMPT_MIN_MS) {
		rs->code = CURLE_OPERATION_TIMEDOUT;
		snprintf(rs->why, sizeof(rs->why), "no time left before the deadline");
		return -ETIMEDOUT;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(rs->why, sizeof(rs->why), "libcurl could not start");
		return -ENOMEM;
	}
	char err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "sshrescue/" SSHRESCUE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_response);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rq->response);
	if (rq->direct)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (strcmp(rq->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		if (strcmp(rq->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	if (d->ca_path)
		curl_easy_setopt(c, CURLOPT_CAINFO, d->ca_path);
	if (d->ca_blob) {
		struct curl_blob blob = { .data = d->ca_blob, .len = d->ca_blob_len,
					  .flags = CURL_BLOB_NOCOPY };
		if (curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
			curl_easy_setopt(c, CURLOPT_CAINFO, d->cfg->report_ca_file);
	}
	rs->code = curl_easy_perform(c);
	if (rs->code == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	curl_easy_cleanup(c);

	int rc;
	if (rs->code != CURLE_OK) {
		snprintf(rs->why, sizeof(rs->why), "%s", err[0] ? err : curl_easy_strerror(rs->code));
		switch (rs->code) {
		case CURLE_COULDNT_CONNECT:
			rc = -ECONNREFUSED;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			rc = -ETIMEDOUT;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			rc = -EHOSTUNREACH;
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			rc = -EINVAL; /* the same next time */
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CACERT_BADFILE:
			rc = -EPROTO;
			break;
		default:
			rc = -EIO;
		}
	} else if (rs->status >= 200 && rs->status <= 299) {
		rc = 0;
	} else {
		snprintf(rs->why, sizeof(rs->why), "HTTP %ld from %s %s", rs->status, rq->method,
			 d->shown_url);
		rc = deliver_http_retryable(rs->status) ? -EAGAIN : -EREMOTEIO;
	}
	return rc;
}

/* The url as it may be shown: no user:password, no query (it may carry a token). */
static char *url_shown(const char *url)
{
	char *out = NULL;
	CURLU *u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME) == CURLUE_OK) {
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		char *s = NULL;
		if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
			out = xstrdup(s);
			curl_free(s);
		}
	}
	curl_url_cleanup(u);
	return out ? out : xstrdup("(unparsable url)");
}

/* ---- what is sent ---- */

/* One report to deliver: this run's (rebuilt per attempt so delivery.attempts is right) or
 * a spooled one (sent as it was stored). */
struct payload {
	struct run *run;
	const char *text; /* spooled JSON, when run is NULL */
	size_t text_len;
	const char *run_id;
	bool spooled;
};

static char *payload_body(const struct payload *p, unsigned attempt, size_t *len)
{
	if (!p->run) {
		*len = p->text_len;
		return xstrndup(p->text, p->text_len);
	}
	p->run->delivery_attempts = attempt;
	free(p->run->delivery_status);
	p->run->delivery_status = xstrdup("delivered");
	char *s = report_to_string(p->run, false);
	*len = strlen(s);
	return s;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* The one line an operator reads in `gcloud compute instances get-guest-attributes`:
 * "RUN-ID repair exit 1: hosts_access repaired, sshd ok". */
static char *summary_line(const char *json, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
	if (tok)
		json_tokener_free(tok);
	struct buf b = { 0 };
	const char *id = o ? json_str(o, "run_id") : NULL;
	const char *cmd = o ? json_str(o, "command") : NULL;
	struct json_object *v;
	int exit_status = o && json_object_object_get_ex(o, "exit_status", &v) ? json_object_get_int(v)
									     : -1;
	buf_printf(&b, "%s %s exit %d:", id ? id : "?", cmd ? cmd : "?", exit_status);
	struct json_object *pols;
	if (o && json_object_object_get_ex(o, "policies", &pols) &&
	    json_object_is_type(pols, json_type_array)) {
		size_t n = json_object_array_length(pols);
		for (size_t i = 0; i < n; i++) {
			struct json_object *p = json_object_array_get_idx(pols, i);
			const char *name = json_str(p, "name"), *status = json_str(p, "status");
			buf_printf(&b, "%s %s %s", i ? "," : "", name ? name : "?",
				   status ? status : "?");
		}
	}
	json_object_put(o);
	return b.data;
}

static struct curl_slist *headers_common(const struct deliver *d, const struct payload *p,
					 const char *content_type)
{
	struct curl_slist *h = NULL;
	char *s = xasprintf("Content-Type: %s", content_type);
	h = curl_slist_append(h, s);
	free(s);
	/* no "Expect: 100-continue" round trip to wait for */
	h = curl_slist_append(h, "Expect:");
	s = xasprintf("X-Sshrescue-Run-Id: %s", p->run_id);
	h = curl_slist_append(h, s);
	free(s);
	if (p->spooled)
		h = curl_slist_append(h, "X-Sshrescue-Spooled: yes");
	for (size_t i = 0; i < d->cfg->report_headers.n; i++)
		h = curl_slist_append(h, d->cfg->report_headers.v[i]);
	return h;
}

/* A header of ours that the policy's own `header =` lines do not already give. */
static bool header_configured(const struct config *cfg, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < cfg->report_headers.n; i++) {
		const char *h = cfg->report_headers.v[i];
		if (strncasecmp(h, name, n) == 0 && h[n] == ':')
			return true;
	}
	return false;
}

/* put: the body of an object at a presigned URL (S3, GCS signed URL, Azure Blob SAS). Azure's
 * Put Blob refuses a request without x-ms-blob-type; S3 and GCS check only the headers the URL
 * signed and the x-amz-/x-goog- ones, so it goes on every PUT: an Azure account behind its own
 * domain name or an emulator gets it too. */
static struct curl_slist *headers_put(const struct deliver *d, const struct payload *p)
{
	struct curl_slist *h = headers_common(d, p, "application/json");
	if (!header_configured(d->cfg, "x-ms-blob-type"))
		h = curl_slist_append(h, "x-ms-blob-type: BlockBlob");
	return h;
}

static char *gce_base(const struct config *cfg)
{
	const char *env = getenv("GCE_METADATA_HOST");
	char *base;
	if (cfg->report_url && *cfg->report_url)
		base = xstrdup(cfg->report_url);
	else if (env && *env)
		base = strstr(env, "://") ? xstrdup(env) : xasprintf("http://%s", env);
	else
		base = xstrdup(GCE_DEFAULT);
	/* a url that already names the guest attributes path is taken as its base */
	char *cut = strstr(base, "/computeMetadata/");
	if (cut)
		*cut = '\0';
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	return base;
}

/* One attempt: 0 delivered; -EREMOTEIO or -EINVAL when the next attempt would fail the same
 * way (an HTTP answer such as 404, a url libcurl refuses); another -errno is worth a retry. */
static int attempt_once(struct deliver *d, const struct payload *p, unsigned attempt,
			int64_t until, char *why, size_t why_len)
{
	size_t len;
	_cleanup_free_ char *body = payload_body(p, attempt, &len);
	struct http_res rs;
	int rc;
	if (d->cfg->report_flavor == FLAVOR_GCE) {
		_cleanup_free_ char *base = gce_base(d->cfg);
		_cleanup_free_ char *url = xasprintf("%s" GCE_ATTR_PATH "report", base);
		struct curl_slist *h = headers_common(d, p, "application/json");
		h = curl_slist_append(h, "Metadata-Flavor: Google");
		struct http_req rq = { .method = "PUT", .url = url, .body = body, .body_len = len,
				       .headers = h, .direct = true, .until = until };
		rc = http_do(d, &rq, &rs);
		curl_slist_free_all(h);
		if (rc == 0) {
			_cleanup_free_ char *line = summary_line(body, len);
			_cleanup_free_ char *surl = xasprintf("%s" GCE_ATTR_PATH "summary", base);
			h = headers_common(d, p, "text/plain");
			h = curl_slist_append(h, "Metadata-Flavor: Google");
			struct http_req sq = { .method = "PUT", .url = surl, .body = line,
					       .body_len = strlen(line), .headers = h,
					       .direct = true, .until = until };
			rc = http_do(d, &sq, &rs);
			curl_slist_free_all(h);
		}
	} else {
		bool put = d->cfg->report_flavor == FLAVOR_PUT;
		struct curl_slist *h = put ? headers_put(d, p) : headers_common(d, p, "application/json");
		struct http_req rq = { .method = put ? "PUT" : "POST", .url = d->cfg->report_url,
				       .body = body,
				       .body_len = len, .headers = h, .until = until };
		rc = http_do(d, &rq, &rs);
		curl_slist_free_all(h);
	}
	if (rc < 0)
		snprintf(why, why_len, "%s", rs.why);
	return rc;
}

/* Deliver one report with the configured attempts, backoff and deadline. *attempts counts
 * the attempts made; why says what the last one met. */
static int deliver_payload(struct deliver *d, const struct payload *p, unsigned *attempts,
			   char *why, size_t why_len)
{
	int rc = -ETIMEDOUT;
	snprintf(why, why_len, "no time left before the deadline");
	*attempts = 0;
	for (unsigned k = 1; k <= d->cfg->report_attempts; k++) {
		if (k > 1) {
			int64_t pause = (int64_t)deliver_backoff_ms(k, random_u32());
			if (mono_ms() + pause + ATTEMPT_MIN_MS > d->deadline) {
				say("delivery: deadline of %lu s reached", d->cfg->report_deadline);
				break;
			}
			say("delivery: retrying in %.1f s", (double)pause / 1000.0);
			sleep_ms(pause);
		}
		int64_t now = mono_ms();
		if (d->deadline - now < ATTEMPT_MIN_MS) { /* the pause overran (a loaded machine) */
			if (k > 1)
				say("delivery: deadline of %lu s reached", d->cfg->report_deadline);
			break;
		}
		int64_t until = now + (int64_t)d->cfg->report_timeout * 1000;
		if (until > d->deadline)
			until = d->deadline;
		*attempts = k;
		rc = attempt_once(d, p, k, until, why, why_len);
		if (rc == 0)
			return 0;
		say("delivery: attempt %u/%lu of report %s to %s failed: %s", k,
		    d->cfg->report_attempts, p->run_id, d->shown_url, why);
		if (rc == -EREMOTEIO || rc == -EINVAL)
			break;
	}
	return rc;
}

/* Not being able to say which instance sent the report does not stop it from being sent:
 * the report says why (a collector may see many of these off EC2 or with a hop limit of 1). */
static int aws_identity_failed(struct run *run, char *why, int rc)
{
	say("delivery: %s", why);
	if (!run->extra)
		run->extra = json_object_new_object();
	json_object_object_add(run->extra, "aws_identity_error", json_object_new_string(why));
	free(why);
	return rc;
}

/* aws-imdsv2: a session token, then the instance identity document, into run->extra. A
 * missing IMDS (not on EC2, hop limit) costs one short try and does not stop the delivery. */
static int aws_identity(struct deliver *d, struct run *run)
{
	/* [report] imds, else the variable AWS SDKs honour, else the link-local address */
	const char *env = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *cfg_imds = d->cfg->report_imds;
	_cleanup_free_ char *base = xstrdup(cfg_imds && *cfg_imds ? cfg_imds
					    : env && *env	     ? env
								     : IMDS_DEFAULT);
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	int64_t until = mono_ms() + IMDS_TIMEOUT_MS;
	if (until > d->deadline)
		until = d->deadline;

	_cleanup_free_ char *turl = xasprintf("%s/latest/api/token", base);
	struct buf token = {.max = RESPONSE_MAX};
	struct curl_slist *h =
		curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL);
	struct http_req rq = { .method = "PUT", .url = turl, .headers = h, .direct = true,
			       .until = until, .response = &token };
	struct http_res rs;
	int rc = http_do(d, &rq, &rs);
	curl_slist_free_all(h);
	if (rc == 0 && (!token.data || !*token.data || strpbrk(token.data, "\r\n")))
		rc = -EPROTO, snprintf(rs.why, sizeof(rs.why), "IMDS gave no usable token");
	if (rc < 0) {
		buf_free(&token);
		return aws_identity_failed(run, xasprintf("no IMDSv2 token from %s: %s", base, rs.why),
					   rc);
	}
	_cleanup_free_ char *iurl = xasprintf("%s/latest/dynamic/instance-identity/document", base);
	_cleanup_free_ char *th = xasprintf("X-aws-ec2-metadata-token: %s", token.data);
	buf_free(&token);
	struct buf doc = {.max = RESPONSE_MAX};
	h = curl_slist_append(NULL, th);
	struct http_req iq = { .method = "GET", .url = iurl, .headers = h, .direct = true,
			       .until = until, .response = &doc };
	rc = http_do(d, &iq, &rs);
	curl_slist_free_all(h);
	if (rc < 0) {
		buf_free(&doc);
		return aws_identity_failed(
			run, xasprintf("no instance identity document from %s: %s", base, rs.why), rc);
	}
	struct json_object *o = doc.data ? json_tokener_parse(doc.data) : NULL;
	if (!o)
		o = json_object_new_string(doc.data ? doc.data : "");
	buf_free(&doc);
	if (!run->extra)
		run->extra = json_object_new_object();
	json_object_object_add(run->extra, "aws_identity", o);
	return 0;
}

/* ---- the spool inside the instance ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The *.json names of an instance directory, sorted (run ids sort by time). */
static int list_json(struct root *root, const char *dir, struct strv *names)
{
	DIR *d;
	int rc = root_opendir(root, dir, &d);
	if (rc < 0)
		return rc;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && has_suffix(e->d_name, ".json"))
			strv_push(names, e->d_name);
	closedir(d);
	if (names->n)
		qsort(names->v, names->n, sizeof(*names->v), cmp_str);
	return 0;
}

/* Remove a file sshrescue itself wrote (spool entry, old history): unlinkat below the
 * directory's fd opened inside the root, so the name cannot lead out of it. */
static int remove_own(struct root *root, const char *dir, const char *name)
{
	if (strchr(name, '/'))
		return -EINVAL;
	DIR *d;
	int rc = root_opendir(root, dir, &d);
	if (rc < 0)
		return rc;
	rc = unlinkat(dirfd(d), name, 0) < 0 ? -errno : 0;
	closedir(d);
	return rc;
}

/* Keep the newest keep *.json files of dir. */
static void prune_dir(struct root *root, const char *dir, size_t keep)
{
	struct strv names = { 0 };
	if (list_json(root, dir, &names) == 0)
		for (size_t i = 0; i + keep < names.n; i++)
			remove_own(root, dir, names.v[i]);
	strv_free(&names);
}

/* Deliver the spooled reports, oldest first. Stops at the first one that fails for a reason
 * that would fail the next one too (the endpoint is down), so a dead endpoint costs the
 * deadline once. *left counts those still in the spool. */
static int deliver_spool(struct deliver *d, struct root *root, const char *own_id, size_t *left,
			 bool *endpoint_down)
{
	struct strv names = { 0 };
	*left = 0;
	*endpoint_down = false;
	int rc = list_json(root, SPOOL_DIR, &names);
	if (rc < 0) {
		strv_free(&names);
		return rc == -ENOENT ? 0 : rc;
	}
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *id = xstrndup(names.v[i], strlen(names.v[i]) - 5);
		if (strcmp(id, own_id) == 0)
			continue;
		if (*endpoint_down) {
			(*left)++;
			continue;
		}
		_cleanup_free_ char *path = xasprintf(SPOOL_DIR "/%s", names.v[i]);
		char *text = NULL;
		size_t len = 0;
		if ((rc = root_read_file(root, path, SPOOL_MAX_FILE, &text, &len)) < 0) {
			say("delivery: %s: cannot read the spooled report: %s", path,
			    strerror(-rc));
			(*left)++;
			continue;
		}
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			len--;
		struct payload p = { .text = text, .text_len = len, .run_id = id, .spooled = true };
		unsigned attempts;
		char why[CURL_ERROR_SIZE + 64];
		rc = deliver_payload(d, &p, &attempts, why, sizeof(why));
		free(text);
		if (rc == 0) {
			say("delivery: spooled report %s delivered to %s", id, d->shown_url);
			remove_own(root, SPOOL_DIR, names.v[i]);
			continue;
		}
		(*left)++;
		if (rc != -EREMOTEIO && rc != -EINVAL)
			*endpoint_down = true;
	}
	strv_free(&names);
	return 0;
}

/* ---- deliver_report ---- */

#define EXIT_BIT_UNDELIVERED 2 /* SPEC: exit status bit 2 */

/* Why the last delivery failed, for the console line (one report per process). */
static char last_why[CURL_ERROR_SIZE + 64];

static void set_status(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct run *run, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(run->delivery_status);
	run->delivery_status = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Keep the report in the instance's spool, for the next run to send. */
static void spool_report(struct root *root, struct run *run, const char *why)
{
	/* the spooled copy says "spooled"; it is sent as it is by the next run */
	_cleanup_free_ char *path = xasprintf(SPOOL_DIR "/%s.json", run->run_id);
	set_status(run, "spooled");
	_cleanup_free_ char *json = report_to_string(run, false);
	_cleanup_free_ char *text = xasprintf("%s\n", json);
	int wrc = root_write_own(root, path, text, strlen(text));
	if (wrc < 0) {
		say("delivery: %s: cannot keep the report: %s", path, strerror(-wrc));
		set_status(run, "failed: %s", why);
	} else {
		prune_dir(root, SPOOL_DIR, SPOOL_KEEP);
	}
}

int deliver_report(const struct config *cfg, struct root *root, struct run *run, bool readonly)
{
	bool gce = cfg->report_flavor == FLAVOR_GCE;
	bool configured = (cfg->report_url && *cfg->report_url) || gce;
	bool writable = root && !readonly && !root->readonly;
	free(run->delivery_url);
	run->delivery_url = NULL;
	run->delivery_attempts = 0;
	last_why[0] = '\0';
	if (!configured) {
		set_status(run, "not configured");
		return 0;
	}
	int rc = libcurl_load(last_why, sizeof(last_why)) < 0 ? -ENOENT : 0;
	if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(last_why, sizeof(last_why), "libcurl could not start");
		rc = -ENOMEM;
	}
	if (rc < 0) {
		/* nothing can be sent by this run: the report waits in the spool all the same */
		run->exit_status |= EXIT_BIT_UNDELIVERED;
		set_status(run, "failed: %s", last_why);
		if (writable)
			spool_report(root, run, last_why);
		return rc;
	}
	struct deliver d = { .cfg = cfg,
			     .deadline = mono_ms() + (int64_t)cfg->report_deadline * 1000 };
	if (gce) {
		_cleanup_free_ char *base = gce_base(cfg);
		_cleanup_free_ char *url = xasprintf("%s" GCE_ATTR_PATH "report", base);
		d.shown_url = url_shown(url);
	} else {
		d.shown_url = url_shown(cfg->report_url);
	}
	run->delivery_url = xstrdup(d.shown_url);
	CURL *probe = curl_easy_init();
	if (probe) {
		ca_blob_load(&d, probe);
		curl_easy_cleanup(probe);
	}

	/* check writes nothing, so it cannot take a report out of the spool either: it leaves
	 * the spool to the next repair. A presigned put URL names one object, which this run's
	 * report fills: earlier reports stay in the spool (and the history) for a collector. */
	size_t spool_left = 0;
	bool endpoint_down = false;
	if (writable && cfg->report_flavor != FLAVOR_PUT)
		deliver_spool(&d, root, run->run_id, &spool_left, &endpoint_down);

	if (cfg->report_flavor == FLAVOR_AWS && !endpoint_down)
		aws_identity(&d, run);

	rc = -EHOSTUNREACH;
	unsigned attempts = 0;
	char why[sizeof(last_why)] = "the endpoint failed for an earlier spooled report";
	struct payload p = { .run = run, .run_id = run->run_id };
	if (!endpoint_down)
		rc = deliver_payload(&d, &p, &attempts, why, sizeof(why));
	run->delivery_attempts = attempts;
	if (rc == 0) {
		set_status(run, "delivered");
	} else {
		snprintf(last_why, sizeof(last_why), "%s", why);
		run->exit_status |= EXIT_BIT_UNDELIVERED;
		set_status(run, "failed: %s", why);
	}
	if (rc < 0 && writable)
		spool_report(root, run, why);
	if (spool_left)
		say("delivery: %zu report%s of earlier runs still in %s", spool_left,
		    spool_left == 1 ? "" : "s", SPOOL_DIR);
	free(d.ca_blob);
	free(d.shown_url);
	curl_global_cleanup();
	if (rc < 0)
		return rc;
	if (spool_left) {
		run->exit_status |= EXIT_BIT_UNDELIVERED;
		return -EAGAIN;
	}
	return 0;
}

/* ---- the report inside the instance ---- */

int deliver_write_file(const struct config *cfg, struct root *root, struct run *run)
{
	if (!root || root->readonly || !cfg->report_file || !*cfg->report_file)
		return 0;
	_cleanup_free_ char *json = report_to_string(run, false);
	_cleanup_free_ char *text = xasprintf("%s\n", json);
	size_t len = strlen(text);
	int rc = root_write_own(root, cfg->report_file, text, len);
	if (rc < 0)
		return rc;
	/* the history beside it: <dir>/history/<run-id>.json, the newest HISTORY_KEEP */
	_cleanup_free_ char *dir = xstrdup(cfg->report_file);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	_cleanup_free_ char *hdir = xasprintf("%s/history", dir);
	_cleanup_free_ char *hpath = xasprintf("%s/%s.json", hdir, run->run_id);
	if ((rc = root_write_own(root, hpath, text, len)) < 0)
		return rc;
	prune_dir(root, hdir, HISTORY_KEEP);
	return 0;
}

/* ---- the console ---- */

/* A tty that does not drain (a serial line with flow control and nobody at the other end)
 * must not hold the reboot: non-blocking writes, and a bounded wait. */
static void write_all(int fd, const char *s, size_t n)
{
	int64_t until = mono_ms() + 2000;
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return;
		int64_t left = until - mono_ms();
		if (left <= 0)
			return;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, (int)left) <= 0)
			return;
	}
}

struct outputs {
	bool err;    /* stderr */
	int console; /* /dev/console, when it is not where stderr already goes */
	int kmsg;    /* /dev/kmsg: one record per line, in dmesg and the journal */
};

/* line may hold text of the instance: made visible (util.h) before it reaches a terminal,
 * the console or kmsg (the summary's lines already are; escaping twice changes nothing). */
static void emit(const struct outputs *o, const char *raw, bool to_stderr, bool to_kmsg)
{
	_cleanup_free_ char *line = text_visible(raw);
	size_t n = strlen(line);
	_cleanup_free_ char *l = xasprintf("%s\n", line);
	if (to_stderr && o->err) {
		fflush(stderr);
		write_all(STDERR_FILENO, l, n + 1);
	}
	if (o->console >= 0)
		write_all(o->console, l, n + 1);
	if (to_kmsg && o->kmsg >= 0) {
		/* <5>: notice, facility user; one write is one record, and the newline ends
		 * it at once rather than leaving it open for a continuation */
		_cleanup_free_ char *k = xasprintf("<5>%s\n", line);
		write_all(o->kmsg, k, n + 4);
	}
}

static char *delivery_line(const struct config *cfg, const struct run *run)
{
	const char *status = run->delivery_status ? run->delivery_status : "not configured";
	const char *url = run->delivery_url ? run->delivery_url : "?";
	unsigned n = run->delivery_attempts;
	const char *s = n == 1 ? "" : "s";
	if (strcmp(status, "delivered") == 0)
		return xasprintf("sshrescue: delivery: delivered to %s (%u attempt%s)", url, n, s);
	if (strcmp(status, "not configured") == 0) {
		/* only where it was written: a check writes nothing into the instance */
		const char *in = run->report_in_instance, *host = run->report_on_host;
		if (in && host)
			return xasprintf(
				"sshrescue: delivery: no endpoint configured; the report is "
				"in %s inside the instance, and in %s",
				in, host);
		if (in || host)
			return xasprintf(
				"sshrescue: delivery: no endpoint configured; the report is "
				"in %s%s",
				in ? in : host, in ? " inside the instance" : "");
		return xasprintf(
			"sshrescue: delivery: no endpoint configured; the report was not "
			"written anywhere (%s)",
			run->command && strcmp(run->command, "repair")
				? "check writes nothing to the instance: --report-file FILE "
				  "or --json keeps it"
				: "writing it failed, see above");
	}
	const char *why = last_why[0] ? last_why : "no attempt in time";
	if (strcmp(status, "spooled") == 0)
		return xasprintf("sshrescue: delivery: not delivered to %s after %u attempt%s (%s); "
				 "kept in %s/%s.json for the next run",
				 url, n, s, why, SPOOL_DIR, run->run_id);
	return xasprintf("sshrescue: delivery: not delivered to %s after %u attempt%s (%s)", url,
			 n, s, why);
}

void deliver_console(const struct config *cfg, const struct run *run, bool rescue_boot)
{
	/* main prints the policy summary on stderr (it knows --quiet, --json, --verbose); here
	 * it goes to the console of a rescue boot, and the delivery line and the machine
	 * lines go everywhere. A person at a terminal is spared the machine lines. */
	struct outputs o = { .err = true, .console = -1, .kmsg = -1 };
	if (rescue_boot) {
		o.console = open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		struct stat a, b;
		if (o.console >= 0 && fstat(o.console, &a) == 0 && fstat(STDERR_FILENO, &b) == 0 &&
		    S_ISCHR(b.st_mode) && a.st_rdev == b.st_rdev) {
			close(o.console);
			o.console = -1;
		}
		o.kmsg = open("/dev/kmsg", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	}

	char *text = NULL;
	size_t len = 0;
	FILE *mem = (o.console >= 0 || o.kmsg >= 0) ? open_memstream(&text, &len) : NULL;
	if (mem) {
		report_print_summary(run, mem, false);
		fclose(mem);
	}
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line)
			emit(&o, line, false, true);
	}
	free(text);

	_cleanup_free_ char *dline = delivery_line(cfg, run);
	emit(&o, dline, true, true);

	if (cfg->report_console) {
		bool person = !rescue_boot && isatty(STDERR_FILENO);
		_cleanup_free_ char *json = report_to_string(run, false);
		struct strv lines = { 0 };
		/* not to /dev/kmsg: the kernel cuts a record at about 1 KiB */
		if (json && deliver_console_chunks(run->run_id, json, strlen(json), &lines) == 0)
			for (size_t i = 0; i < lines.n; i++)
				emit(&o, lines.v[i], !person, false);
		strv_free(&lines);
	}
	if (o.console >= 0)
		close(o.console);
	if (o.kmsg >= 0)
		close(o.kmsg);
}
