/*
 * ngx_http_ticket_module.c -- the module itself: directives,
 * configuration and worker start/stop.  A request's way from nginx to
 * its view is ngx_http_ticket_request.c.
 */

#include "ngx_http_ticket.h"
#include "ngx_http_ticket_cache.h"
#include "ngx_http_ticket_endpoint.h"

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif


/* The page cache where "ticket" is used and ticket_cache_zone is not
 * set: a few hundred overviews or some dozen long tickets, and a modest
 * share of the workers' memory (the zone's touched pages count in each
 * worker's RSS). */
#define NGX_HTTP_TICKET_CACHE_SIZE  (8 * 1024 * 1024)


static char *ngx_http_ticket(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_ticket_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ticket_redis_sentinel(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_ticket_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ticket_url_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ticket_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ticket_positive_msec(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_ticket_positive_sec(ngx_conf_t *cf, void *post,
    void *data);

static void *ngx_http_ticket_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_ticket_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_ticket_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_ticket_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static ngx_int_t ngx_http_ticket_init_process(ngx_cycle_t *cycle);
static void ngx_http_ticket_time_zone(ngx_cycle_t *cycle);
static void ngx_http_ticket_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_ticket_positive_msec_post =
    ngx_http_ticket_positive_msec;
static ngx_conf_post_handler_pt  ngx_http_ticket_positive_sec_post =
    ngx_http_ticket_positive_sec;

/* the tag replies carry in their subject, "[Ticket#42]": mailbridge's
 * subject_tag must be the same */
static char *ngx_http_ticket_subject_tag_check(ngx_conf_t *cf, void *post,
    void *data);
static ngx_conf_post_handler_pt  ngx_http_ticket_subject_tag_post =
    ngx_http_ticket_subject_tag_check;

static ngx_conf_num_bounds_t  ngx_http_ticket_tx_bounds = {
    ngx_conf_check_num_bounds, 1, 64
};


static ngx_command_t  ngx_http_ticket_commands[] = {

    { ngx_string("ticket"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ticket,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ticket_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ticket_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ticket_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_ticket_redis_sentinel,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ticket_redis_wait"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_ticket_redis_wait,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ticket_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ticket_main_conf_t, redis_timeout),
      &ngx_http_ticket_positive_msec_post },

    { ngx_string("ticket_redis_tx_connections"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ticket_main_conf_t, tx_connections),
      &ngx_http_ticket_tx_bounds },

    { ngx_string("ticket_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_ticket_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, base_url),
      NULL },

    { ngx_string("ticket_static_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_ticket_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, static_url),
      NULL },

    { ngx_string("ticket_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, cookie_secure),
      NULL },

    { ngx_string("ticket_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, session_timeout),
      &ngx_http_ticket_positive_sec_post },

    { ngx_string("ticket_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ticket_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ticket_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, cache),
      NULL },

    { ngx_string("ticket_row_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, row_cache),
      NULL },

    { ngx_string("ticket_upload_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, upload_max_size),
      NULL },

    { ngx_string("ticket_subject_tag"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, subject_tag),
      &ngx_http_ticket_subject_tag_post },

    /* i18n (docs/i18n.md): the zone pages show times in */
    { ngx_string("ticket_time_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ticket_main_conf_t, time_zone),
      NULL },

    /* casework: the public request form */
    { ngx_string("ticket_form"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, form),
      NULL },

    { ngx_string("ticket_form_group"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, form_group),
      NULL },

    { ngx_string("ticket_form_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, form_rate),
      NULL },

    { ngx_string("ticket_form_attachment_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ticket_loc_conf_t, form_file_max),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_ticket_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_ticket_create_main_conf,      /* create main configuration */
    ngx_http_ticket_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_ticket_create_loc_conf,       /* create location configuration */
    ngx_http_ticket_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_ticket_module = {
    NGX_MODULE_V1,
    &ngx_http_ticket_module_ctx,           /* module context */
    ngx_http_ticket_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_ticket_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_ticket_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- worker ------------------------------------------------------------- */

static ngx_int_t
ngx_http_ticket_init_process(ngx_cycle_t *cycle)
{
    ngx_http_ticket_time_zone(cycle);

    return ngx_http_ticket_redis_init_process(cycle);
}


/*
 * Pages show times in ticket_time_zone (default Europe/Berlin: the
 * collective's), not in whatever zone the server runs in; "server" keeps
 * the environment's TZ.  The worker's libc zone is set once, before any
 * time is formatted (nginx's own log times follow it).  Without tzdata
 * Europe/Berlin is its POSIX rule, so the default never becomes UTC.
 */
static void
ngx_http_ticket_time_zone(ngx_cycle_t *cycle)
{
    char                         *tz, path[256];
    ngx_http_ticket_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ticket_module);

    if (mcf == NULL || !mcf->used || mcf->time_zone.len == 0
        || mcf->time_zone.len >= 128
        || ngx_strcmp(mcf->time_zone.data, "server") == 0)
    {
        return;
    }

    tz = (char *) mcf->time_zone.data;
    ngx_snprintf((u_char *) path, sizeof(path), "/usr/share/zoneinfo/%s%Z",
                 tz);

    if (ngx_strcmp(tz, "Europe/Berlin") == 0 && access(path, R_OK) != 0) {
        tz = "CET-1CEST,M3.5.0,M10.5.0/3";
    }

    if (setenv("TZ", tz, 1) != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                      "ticket_time_zone: setenv(TZ) failed");
        return;
    }

    tzset();
}


static void
ngx_http_ticket_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_ticket_redis_exit_process(cycle);
}


/* ---- configuration ------------------------------------------------------ */

static char *
ngx_http_ticket(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ticket_loc_conf_t  *lcf = conf;

    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_ticket_main_conf_t  *mcf;

    if (lcf->enable == 1) {
        return "is duplicate";
    }

    lcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_ticket_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ticket_module);
    mcf->used = 1;

#if (NGX_THREADS)
    /* yescrypt runs in nginx's "default" pool, created here if needed */
    if (mcf->thread_pool == NULL) {
        mcf->thread_pool = ngx_thread_pool_add(cf, NULL);
        if (mcf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }
#else
    /* a password costs ~20 ms of CPU: never on a worker's event loop */
    return "needs nginx built with thread support (--with-threads): "
           "passwords are hashed in a thread pool, never in a worker";
#endif

    return NGX_CONF_OK;
}


/*
 * "unix:/path/to/redis.sock", "host:port" or "[::1]:6379": parsed and a
 * host name resolved now, by nginx's URL parser, never in a worker
 * (ngx_http_ticket_endpoint.c).
 */
static char *
ngx_http_ticket_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ticket_main_conf_t  *mcf = conf;

    char       *rv;
    ngx_str_t  *value;

    if (mcf->redis.data) {
        return "is duplicate (or \"ticket_redis_sentinel\" is set too)";
    }

    value = cf->args->elts;
    mcf->redis = value[1];

    rv = ngx_http_ticket_endpoint_parse(cf, &value[1], &mcf->endpoint);

    if (rv == NGX_CONF_ERROR) {
        return rv;
    }

    if (rv != NGX_CONF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive: %s",
                           &value[1], &cmd->name, rv);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * "ticket_redis_wait N [TIMEOUT]": every committed transaction (articles,
 * ticket changes) is followed, in the same round trip, by WAIT N TIMEOUT;
 * fewer confirming replicas turn the answer into a 503 -- the write is on
 * the primary, but not yet safe from a failover.
 */
static char *
ngx_http_ticket_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ticket_main_conf_t  *mcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_msec_t   ms;

    if (mcf->wait_replicas) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n <= 0 || n > 16) {
        return "expects a number of replicas from 1 to 16";
    }
    mcf->wait_replicas = (ngx_uint_t) n;

    if (cf->args->nelts == 3) {
        ms = ngx_parse_time(&value[2], 0);
        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            return "has an invalid timeout";
        }
        mcf->wait_timeout = ms;
    }

    return NGX_CONF_OK;
}


/*
 * "ticket_redis_sentinel host:port ... master NAME": instead of
 * ticket_redis, the primary of NAME as the Sentinels name it, asked by
 * every worker without blocking (ngx_http_ticket_redis.c), again after
 * every lost link, READONLY reply or timeout.
 */
static char *
ngx_http_ticket_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_ticket_main_conf_t  *mcf = conf;

    char        *rv;
    ngx_str_t   *value;
    ngx_uint_t   n;

    if (mcf->redis.data) {
        return "is duplicate (or \"ticket_redis\" is set too)";
    }

    value = cf->args->elts;
    n = cf->args->nelts;

    if (n < 4 || ngx_strcmp(value[n - 2].data, "master") != 0) {
        return "expects \"host:port ... master NAME\"";
    }

    rv = ngx_http_ticket_endpoint_sentinel(cf, &value[1], n - 3,
                                           &value[n - 1], &mcf->endpoint);
    if (rv == NGX_CONF_ERROR) {
        return rv;
    }

    if (rv != NGX_CONF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value in \"%V\" directive: %s",
                           &cmd->name, rv);
        return NGX_CONF_ERROR;
    }

    mcf->redis = value[n - 1];

    return NGX_CONF_OK;
}


/*
 * ticket_base_url and ticket_static_url: both are joined with relative
 * paths ("login", "ticket.css"), so both end in "/"; the base URL is
 * also the cookie path and must be a local path.  Neither may contain
 * what would break an HTML attribute or a Set-Cookie header.
 */
static char *
ngx_http_ticket_url_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    u_char     *p;
    ngx_str_t  *value;
    ngx_flag_t  base, valid;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;
    base = (cmd->offset == offsetof(ngx_http_ticket_loc_conf_t, base_url));

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'' || *p == '<'
            || *p == '>' || *p == '\\' || *p == ';' || *p == ','
            || *p == '?' || *p == '#')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\" directive, "
                               "character \"%c\" is not allowed",
                               &value[1], &cmd->name, *p);
            return NGX_CONF_ERROR;
        }
    }

    if (base) {
        valid = (value[1].len > 0 && value[1].data[0] == '/'
                 && value[1].data[value[1].len - 1] == '/');

        /* "//" would make the path look like a host to browsers */
        for (p = value[1].data + 1; p < value[1].data + value[1].len; p++) {
            if (p[-1] == '/' && p[0] == '/') {
                valid = 0;
            }
        }

        if (!valid) {

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\" directive, "
                               "it must start and end with \"/\" and "
                               "contain no \"//\"",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }

    } else if (value[1].len == 0 || value[1].data[value[1].len - 1] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must end with \"/\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * ticket_cache_zone SIZE | off: the shared memory of the page cache.  It
 * must hold a few pages; an entry may take an eighth of it.
 */
static char *
ngx_http_ticket_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ticket_main_conf_t  *mcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (mcf->cache_size != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        mcf->cache_size = 0;
        return NGX_CONF_OK;
    }

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "expected a size (\"8m\") or \"off\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must be at least %uik",
                           &value[1], &cmd->name, 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    mcf->cache_size = size;

    return NGX_CONF_OK;
}


static char *
ngx_http_ticket_positive_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms == 0) {
        return "must be greater than 0";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_ticket_positive_sec(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *sec = data;

    if (*sec <= 0) {
        return "must be greater than 0";
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_ticket_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_ticket_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ticket_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->redis = { 0, NULL };
     *     mcf->endpoint = NULL;
     *     mcf->used = 0;
     *     mcf->thread_pool = NULL;
     *     mcf->cache_zone = NULL;
     */

    mcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    mcf->wait_timeout = NGX_CONF_UNSET_MSEC;
    mcf->tx_connections = NGX_CONF_UNSET_UINT;
    mcf->cache_size = NGX_CONF_UNSET;

    return mcf;
}


static char *
ngx_http_ticket_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_ticket_main_conf_t  *mcf = conf;

    u_char  *p;

    ngx_conf_init_msec_value(mcf->redis_timeout, 2000);
    ngx_conf_init_msec_value(mcf->wait_timeout, 1000);

    if (mcf->wait_replicas && mcf->wait_timeout >= mcf->redis_timeout) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the timeout of \"ticket_redis_wait\" must be "
                           "shorter than \"ticket_redis_timeout\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->time_zone.len == 0) {
        ngx_str_set(&mcf->time_zone, "Europe/Berlin");
    }

    ngx_conf_init_uint_value(mcf->tx_connections, 4);

    if (mcf->used && mcf->redis.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the \"ticket\" directive is used, but "
                           "\"ticket_redis\" is not set in the http block");
        return NGX_CONF_ERROR;
    }

    if (mcf->cache_size == NGX_CONF_UNSET) {
        mcf->cache_size = NGX_HTTP_TICKET_CACHE_SIZE;
    }

    if (mcf->used && mcf->cache_size > 0) {
        mcf->cache_zone = ngx_http_ticket_cache_add_zone(cf,
                                                  (size_t) mcf->cache_size);
        if (mcf->cache_zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* a new value per configuration load busts the browsers' caches */
    p = ngx_pnalloc(cf->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->static_version.data = p;
    mcf->static_version.len = ngx_sprintf(p, "%T", ngx_time()) - p;

    return NGX_CONF_OK;
}


static void *
ngx_http_ticket_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_ticket_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ticket_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->base_url = { 0, NULL };
     *     lcf->static_url = { 0, NULL };
     */

    lcf->enable = NGX_CONF_UNSET;
    lcf->cookie_secure = NGX_CONF_UNSET;
    lcf->session_timeout = NGX_CONF_UNSET;
    lcf->cache = NGX_CONF_UNSET;
    lcf->row_cache = NGX_CONF_UNSET;
    lcf->upload_max_size = NGX_CONF_UNSET_SIZE;
    lcf->form = NGX_CONF_UNSET;
    lcf->form_rate = NGX_CONF_UNSET_UINT;
    lcf->form_file_max = NGX_CONF_UNSET_SIZE;

    return lcf;
}


static char *
ngx_http_ticket_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_ticket_loc_conf_t  *prev = parent;
    ngx_http_ticket_loc_conf_t  *conf = child;

    /* "ticket" is not inherited: only where it is written */
    ngx_conf_init_value(conf->enable, 0);

    ngx_conf_merge_str_value(conf->base_url, prev->base_url, "/");
    ngx_conf_merge_str_value(conf->static_url, prev->static_url, "/static/");
    ngx_conf_merge_value(conf->cookie_secure, prev->cookie_secure, 1);
    ngx_conf_merge_sec_value(conf->session_timeout, prev->session_timeout,
                             8 * 3600);
    ngx_conf_merge_value(conf->cache, prev->cache, 1);
    ngx_conf_merge_value(conf->row_cache, prev->row_cache, 1);
    ngx_conf_merge_str_value(conf->subject_tag, prev->subject_tag, "Ticket#");
    ngx_conf_merge_size_value(conf->upload_max_size, prev->upload_max_size,
                              20 * 1024 * 1024);

    /* casework: the request form is not inherited either; its group
     * must be named */
    ngx_conf_init_value(conf->form, 0);
    ngx_conf_merge_uint_value(conf->form_rate, prev->form_rate, 5);
    ngx_conf_merge_size_value(conf->form_file_max, prev->form_file_max,
                              2 * 1024 * 1024);
    if (conf->form == 1 && (conf->enable != 1 || conf->form_group.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"ticket_form on\" needs "
                           "\"ticket\" and \"ticket_form_group\" in the "
                           "same location");
        return NGX_CONF_ERROR;
    }

    /* a "ticket" location takes forms with files up to that size: the
     * core's client_max_body_size (1m by default, merged before us)
     * must not refuse them first; urlencoded forms stay at 1 MiB
     * (ngx_http_ticket_request.c) */
    if (conf->enable == 1) {
        ngx_http_core_loc_conf_t  *clcf;

        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->client_max_body_size
            < (off_t) conf->upload_max_size + 64 * 1024)
        {
            clcf->client_max_body_size = (off_t) conf->upload_max_size
                                         + 64 * 1024;
        }
    }

    return NGX_CONF_OK;
}


/* 1 to 32 printable ASCII bytes, no brackets or blanks: the tag stands
 * in a subject line and is found again there by mailbridge. */
static char *
ngx_http_ticket_subject_tag_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *tag = data;

    size_t  i;

    if (tag->len == 0 || tag->len > 32) {
        return "must be 1 to 32 characters long";
    }

    for (i = 0; i < tag->len; i++) {
        if (tag->data[i] <= ' ' || tag->data[i] >= 0x7f
            || tag->data[i] == '[' || tag->data[i] == ']')
        {
            return "must not contain blanks, brackets or non-ASCII bytes";
        }
    }

    return NGX_CONF_OK;
}
