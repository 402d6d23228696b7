# Ticket system: nginx module + ticketctl + mailbridge.
#   make run   -- install what is missing, build, start everything on :$(PORT)
#   make test  -- install, build, run every test against real servers
SHELL := /bin/bash
.DEFAULT_GOAL := all

NGX_SRC  ?= /usr/share/nginx/src
BUILD    := $(CURDIR)/build
PORT     ?= 8080
VAR      ?= var

CC       ?= cc
CFLAGS   ?= -O2 -g
TK_CFLAGS = $(CPPFLAGS) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
            -D_GNU_SOURCE -Iredis-schema -Iredis-schema/support -I$(BUILD)/tpl

# The support library (redis-schema/support/): strings, the output sink
# and escaping, time formatting, RESP commands, the blocking client.  It
# knows no key: compiled without -Iredis-schema, so an include of a schema
# header there fails the build.  Archive build/libtksupport.a.
TK_SUPPORT_SRCS := redis-schema/support/tk_str.c redis-schema/support/tk_escape.c \
                   redis-schema/support/tk_time.c redis-schema/support/tk_cmd.c \
                   redis-schema/support/tk_redis_sync.c \
                   redis-schema/support/tk_redis_sentinel.c \
                   redis-schema/support/tk_addr.c redis-schema/support/tk_json.c \
                   redis-schema/support/tk_multipart.c
TK_SUPPORT_OBJS := $(patsubst redis-schema/support/%.c,$(BUILD)/obj/support/%.o,$(TK_SUPPORT_SRCS))
TK_SUPPORT_HDRS := $(wildcard redis-schema/support/*.h)
TK_SUPPORT_CFLAGS = $(filter-out -Iredis-schema -I$(BUILD)/tpl,$(TK_CFLAGS))

# The schema proper: one copy of keys, enums, the write path.  build/libtk.a
# holds it and the support objects (one archive to link).
TK_LIB_SRCS  := redis-schema/tk_schema.c redis-schema/tk_keys.c \
                redis-schema/tk_ticket.c redis-schema/tk_article.c \
                redis-schema/tk_outbox.c \
                redis-schema/tk_group.c \
                redis-schema/tk_search.c redis-schema/tk_search_text.c \
                redis-schema/tk_schema_sync.c \
                redis-schema/tk_feed.c \
                redis-schema/tk_sla.c redis-schema/tk_timer.c \
                redis-schema/tk_trigger.c \
                redis-schema/tk_token.c
# tags, merge/split, customers (issue 13, helper "tags")
TK_LIB_SRCS  += redis-schema/tk_tags.c redis-schema/tk_merge.c \
                redis-schema/tk_customer.c
# notifications (helper notify)
TK_LIB_SRCS  += redis-schema/tk_notify.c
# casework: text modules and ticket templates (data protection: ticketctl)
TK_LIB_SRCS  += redis-schema/tk_textmod.c
# tk_ticket.c's overview index part (helper tidy2)
TK_LIB_SRCS  += redis-schema/tk_ticket_index.c
TK_LIB_OBJS  := $(patsubst redis-schema/%.c,$(BUILD)/obj/%.o,$(TK_LIB_SRCS))
TK_HDRS      := $(wildcard redis-schema/*.h) $(TK_SUPPORT_HDRS)

# The application's templates (one list; add a file to the directory).
TPL_HTML     := $(wildcard ngx_ticket_module/templates/*.html)
MODULE_FILES := $(wildcard ngx_ticket_module/*.c ngx_ticket_module/*.h) \
                $(TK_HDRS) $(wildcard redis-schema/*.c redis-schema/support/*.c)

TICKETCTL_SRCS  := $(wildcard ticketctl/*.c)
MAILBRIDGE_SRCS := $(wildcard mailbridge/*.c)
MB_PKGS         := gmime-3.0 gpgme libxml-2.0 libpcre2-8 libcurl hiredis zlib

.PHONY: all module deps run test unit-test e2e-test bench clean format

all: module $(BUILD)/ticketctl $(if $(MAILBRIDGE_SRCS),$(BUILD)/mailbridge)

# ---- templates ---------------------------------------------------------
# The compiler is build/libtplc.a (driver, stages, helpers); tplc.c is its
# command line.
TPLC_LIB_SRCS := $(filter-out lua-free-templates/tplc.c,$(wildcard lua-free-templates/tplc*.c))
TPLC_LIB_OBJS := $(patsubst lua-free-templates/%.c,$(BUILD)/obj/tplc/%.o,$(TPLC_LIB_SRCS))
TPLC_CFLAGS    = $(filter-out -I%,$(TK_CFLAGS)) -Ilua-free-templates

$(BUILD)/obj/tplc/%.o: lua-free-templates/%.c $(wildcard lua-free-templates/tplc*.h)
	@mkdir -p $(@D)
	$(CC) $(TPLC_CFLAGS) -c -o $@ $<

$(BUILD)/libtplc.a: $(TPLC_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tplc: lua-free-templates/tplc.c $(BUILD)/libtplc.a
	@mkdir -p $(@D)
	$(CC) $(TPLC_CFLAGS) -o $@ $< $(BUILD)/libtplc.a

# The UI's strings: one catalogue (docs/i18n.md), checked and compiled by
# tplc with the templates; a missing key or language fails the build.
TPL_MSGS     := ngx_ticket_module/messages.txt

$(BUILD)/tpl/tk_tpl_all.c $(BUILD)/tpl/tk_tpl.h: $(BUILD)/tplc $(TPL_HTML) $(TPL_MSGS)
	@mkdir -p $(BUILD)/tpl
	$(BUILD)/tplc -m $(TPL_MSGS) $(patsubst %,-u %,$(wildcard ngx_ticket_module/*.c)) \
	    -o $(BUILD)/tpl $(TPL_HTML)

# ---- nginx module (built against Debian's nginx source and flags) -------
$(BUILD)/ngx-build/Makefile: config
	@mkdir -p $(BUILD)
	cd $(NGX_SRC) && . ./conf_flags && TK_TPL_DIR=$(BUILD)/tpl ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) --builddir=$(BUILD)/ngx-build >/dev/null

module: $(BUILD)/ngx_http_ticket_module.so

$(BUILD)/ngx_http_ticket_module.so: $(BUILD)/ngx-build/Makefile \
                                    $(BUILD)/tpl/tk_tpl_all.c $(MODULE_FILES)
	cd $(NGX_SRC) && $(MAKE) -s -f $(BUILD)/ngx-build/Makefile modules $(NGX_MAKE_FLAGS)
	cp $(BUILD)/ngx-build/ngx_http_ticket_module.so $@.tmp && mv -f $@.tmp $@

# ---- shared library, ticketctl, mailbridge ------------------------------
$(BUILD)/obj/support/%.o: redis-schema/support/%.c $(TK_SUPPORT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TK_SUPPORT_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: redis-schema/%.c $(TK_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TK_CFLAGS) -c -o $@ $<

$(BUILD)/libtksupport.a: $(TK_SUPPORT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libtk.a: $(TK_LIB_OBJS) $(TK_SUPPORT_OBJS) $(BUILD)/libtksupport.a
	rm -f $@ && ar rcs $@ $(TK_LIB_OBJS) $(TK_SUPPORT_OBJS)

$(BUILD)/ticketctl: $(TICKETCTL_SRCS) $(wildcard ticketctl/*.h) $(BUILD)/libtk.a
	$(CC) $(TK_CFLAGS) -Iticketctl $(if $(TC_DEFAULT_REDIS),-DTC_DEFAULT_REDIS='"$(TC_DEFAULT_REDIS)"') \
	    -o $@ $(TICKETCTL_SRCS) $(BUILD)/libtk.a $(LDFLAGS) -lhiredis -lcrypt -lpcre2-8 -lz

$(BUILD)/mailbridge: $(MAILBRIDGE_SRCS) $(wildcard mailbridge/*.h) $(BUILD)/libtk.a
	$(CC) $(TK_CFLAGS) -Imailbridge $$(pkg-config --cflags $(MB_PKGS)) \
	    -o $@ $(MAILBRIDGE_SRCS) $(BUILD)/libtk.a $(LDFLAGS) $$(pkg-config --libs $(MB_PKGS)) -lcrypt

clean:
	rm -rf $(BUILD)

format:
	clang-format -i ngx_ticket_module/*.[ch] redis-schema/*.[ch] redis-schema/support/*.[ch] \
	    ticketctl/*.[ch] mailbridge/*.[ch] lua-free-templates/*.c

# ---- the schema's names for the Perl tests (t/lib/TK.pm, t/*.t) ---------
all: $(BUILD)/TKSchema.pm

$(BUILD)/TKSchema.pm: redis-schema/tk_schema.h scripts/schema-pm.pl
	@mkdir -p $(@D)
	scripts/schema-pm.pl redis-schema/tk_schema.h > $@.tmp && mv -f $@.tmp $@
# the sections tk_schema.h includes (helper tidy2)
$(BUILD)/TKSchema.pm: redis-schema/tk_schema_casework.h

# ---- unit tests (cmocka): t/unit/test_*.c, test templates t/unit/tpl/ ---
UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/test_*.c))

$(BUILD)/unit-tpl/tk_tpl_all.c: $(BUILD)/tplc $(wildcard t/unit/tpl/*.html) t/unit/tpl/messages.txt
	@mkdir -p $(@D)
	$(BUILD)/tplc -m t/unit/tpl/messages.txt -o $(BUILD)/unit-tpl $(wildcard t/unit/tpl/*.html)

$(BUILD)/unit/%: t/unit/%.c $(BUILD)/libtk.a $(BUILD)/unit-tpl/tk_tpl_all.c
	@mkdir -p $(@D)
	$(CC) -I$(BUILD)/unit-tpl $(TK_CFLAGS) -o $@ $< \
	    $(BUILD)/unit-tpl/tk_tpl_all.c $(BUILD)/libtk.a -lcmocka -lhiredis -lcrypt -lpcre2-8

unit-test: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "# $$t"; $$t; done
# the tests' shared fixtures (t/unit/*.h, helper tidy2)
$(UNIT_TESTS): $(wildcard t/unit/*.h)

# ---- deps, run, end-to-end tests (scripts/, t/*.t, t/lib/TK.pm) --------
#   make deps                       -- missing Debian packages, playwright-core
#   make run [PORT=8080] [VAR=var]  -- everything in the foreground, Ctrl-C stops
#   make test                       -- deps, build, unit tests, e2e tests
#   make e2e-test [E2E=t/login.t]   -- only the e2e tests (prove)
#   make screenshots                -- t/ui.t, then build/artifacts/*.png -> docs/img/
PROVE       ?= prove
PROVE_FLAGS ?= -r
E2E         ?= t/

deps:
	@scripts/deps.sh

run:
	@PORT='$(PORT)' VAR='$(VAR)' MAKE='$(MAKE)' scripts/run.sh

test:
	@scripts/deps.sh
	$(MAKE) all
	$(MAKE) unit-test
	$(MAKE) e2e-test

e2e-test: all
	$(PROVE) $(PROVE_FLAGS) $(E2E)

.PHONY: screenshots
screenshots: all
	$(PROVE) -v t/ui.t
	$(PROVE) -v t/ui_i18n.t          # every view at 390 px, German: *-de-mobile.png
	mkdir -p docs/img
	cp $(BUILD)/artifacts/*.png docs/img/

# ---- benchmarks (not part of make test): bench/run.sh, docs/performance.md
#   make bench           -- 10 k and 1 M tickets, ~20 min (1 M takes ~16 to generate)
#   make bench QUICK=1   -- 10 k and 100 k tickets, <= 2 min
# Parts that do not build yet become "n/a" rows, so the build may fail here.
.PHONY: bench
bench:
	@scripts/deps.sh
	-$(MAKE) -k all
	QUICK='$(QUICK)' bench/run.sh

# Relative names for the absolute build targets (make build/ticketctl).
build/ticketctl build/mailbridge build/libtk.a build/tplc build/ngx_http_ticket_module.so: build/%: $(BUILD)/% ;

# ---- fuzzing (libFuzzer, clang; not part of make test): t/fuzz/ ---------
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="mime sanitize"]
#       -- each target t/fuzz/fuzz_NAME.c for FUZZ_SECONDS, one at a time,
#          corpus in build/fuzz/corpus/NAME (seeded from t/fuzz/seed/NAME,
#          t/fuzz/regress/NAME and for mime from t/corpus/), crashes into
#          build/fuzz/crash/NAME/; the summary (executions, coverage) is
#          appended to build/fuzz/summary.txt
#   make fuzz-regress -- every target binary over t/fuzz/regress/NAME/*
#          (no fuzzing, seconds; part of make unit-test)
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
FUZZ_CFLAGS   := -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -std=gnu11 \
                 -D_GNU_SOURCE -Wall -Wno-unused-parameter
FUZZ_DIR      := $(BUILD)/fuzz
# json, multipart: the parsers of branch composer; built once they exist
FUZZ_MISSING  := $(if $(wildcard redis-schema/support/tk_json.c),,json) \
                 $(if $(wildcard redis-schema/support/tk_multipart.c),,multipart)
FUZZ_TARGETS  ?= $(filter-out $(FUZZ_MISSING),$(patsubst t/fuzz/fuzz_%.c,%,$(wildcard t/fuzz/fuzz_*.c)))
FUZZ_BINS      = $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_SUP_OBJS := $(patsubst redis-schema/support/%.c,$(FUZZ_DIR)/obj/support/%.o,\
                   $(filter-out %/tk_redis_sync.c %/tk_redis_sentinel.c,$(TK_SUPPORT_SRCS)))
FUZZ_MB_OBJS  := $(patsubst mailbridge/%.c,$(FUZZ_DIR)/obj/mb/%.o,\
                   $(filter-out mailbridge/main.c,$(MAILBRIDGE_SRCS)))
FUZZ_TK_OBJS  := $(patsubst redis-schema/%.c,$(FUZZ_DIR)/obj/tk/%.o,$(TK_LIB_SRCS)) \
                 $(FUZZ_DIR)/obj/support/tk_redis_sync.o \
                 $(FUZZ_DIR)/obj/support/tk_redis_sentinel.o

.PHONY: fuzz fuzz-build fuzz-regress

$(FUZZ_DIR)/obj/support/%.o: redis-schema/support/%.c $(TK_SUPPORT_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iredis-schema/support -c -o $@ $<

$(FUZZ_DIR)/obj/tk/%.o: redis-schema/%.c $(TK_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iredis-schema -Iredis-schema/support -c -o $@ $<

$(FUZZ_DIR)/obj/mb/%.o: mailbridge/%.c $(wildcard mailbridge/*.h) $(TK_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iredis-schema -Iredis-schema/support -Imailbridge \
	    $$(pkg-config --cflags $(MB_PKGS)) -c -o $@ $<

FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Iredis-schema -Iredis-schema/support

$(FUZZ_DIR)/fuzz_escape: t/fuzz/fuzz_escape.c $(FUZZ_SUP_OBJS)
	$(FUZZ_LINK) -o $@ $^

$(FUZZ_DIR)/fuzz_cmd: t/fuzz/fuzz_cmd.c $(FUZZ_SUP_OBJS)
	$(FUZZ_LINK) -o $@ $^ -lhiredis

$(FUZZ_DIR)/fuzz_json $(FUZZ_DIR)/fuzz_multipart: $(FUZZ_DIR)/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_SUP_OBJS)
	$(FUZZ_LINK) -o $@ $^

$(FUZZ_DIR)/fuzz_mime $(FUZZ_DIR)/fuzz_sanitize: $(FUZZ_DIR)/fuzz_%: t/fuzz/fuzz_%.c \
                                                 $(FUZZ_MB_OBJS) $(FUZZ_TK_OBJS) $(FUZZ_SUP_OBJS)
	$(FUZZ_LINK) -Imailbridge $$(pkg-config --cflags $(MB_PKGS)) -o $@ $^ \
	    $$(pkg-config --libs $(MB_PKGS)) -lcrypt

# the module's form parser, #included with stand-ins for the nginx core
# (t/fuzz/fuzz_form.c says why); nginx's headers and ngx_auto_config.h
NGX_FUZZ_INCS = $(patsubst %,-I$(NGX_SRC)/src/%,core event event/modules os/unix http \
                  http/modules http/v2) -Ingx_ticket_module -I$(BUILD)/tpl -I$(BUILD)/ngx-build

$(FUZZ_DIR)/fuzz_form: t/fuzz/fuzz_form.c ngx_ticket_module/ngx_http_ticket_form.c \
                       $(BUILD)/ngx-build/Makefile $(BUILD)/tpl/tk_tpl.h
	@mkdir -p $(@D)
	$(FUZZ_LINK) $(NGX_FUZZ_INCS) -o $@ $<

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_DIR='$(FUZZ_DIR)' FUZZ_SECONDS='$(FUZZ_SECONDS)' scripts/fuzz.sh $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	@FUZZ_DIR='$(FUZZ_DIR)' scripts/fuzz.sh --regress $(FUZZ_TARGETS)

# former crashes are fast tests: replayed before the unit tests
unit-test: fuzz-regress

# ---- ASan + UBSan build of everything, the whole suite over it ----------
#   make asan [E2E=t/]  -- build-asan/: module, mailbridge, ticketctl, unit
#       tests with -fsanitize=address,undefined; then the unit tests and
#       prove with TK_BUILD=build-asan (t/lib/TK.pm takes the binaries
#       from there; Debian's nginx, not instrumented, loads the ASan
#       module with libasan in LD_PRELOAD: TK_NGINX_PRELOAD).  Every
#       sanitizer report goes to build-asan/asan-logs/; any report fails.
#       Not part of make test (slow).
ASAN_BUILD   := $(CURDIR)/build-asan
# nonnull-attribute: memcpy(d, NULL, 0) and friends, defined by glibc and
# by C2y (N3322); every other UBSan check stops the process.
ASAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize=nonnull-attribute \
                -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS  := -O1 -g $(ASAN_FLAGS)
ASAN_LIBASAN  = $(shell $(CC) -print-file-name=libasan.so)
ASAN_NGX_CFLAGS := -pipe -O1 -g -W -Wall -Wpointer-arith -Wno-unused-parameter -Werror $(ASAN_FLAGS)
ASAN_LOGS    := $(ASAN_BUILD)/asan-logs

.PHONY: asan asan-build
asan-build:
	$(MAKE) all          # build/tpl and build/TKSchema.pm for the harness
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) BUILD=$(ASAN_BUILD) CFLAGS='$(ASAN_CFLAGS)' \
	    NGX_MAKE_FLAGS="CFLAGS='$(ASAN_NGX_CFLAGS)' LINK='$(CC) $(ASAN_FLAGS)'" all $(UNIT_TESTS:$(BUILD)/%=$(ASAN_BUILD)/%)

asan: asan-build
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS) && chmod 777 $(ASAN_LOGS)
	@set -e; export ASAN_OPTIONS=log_path=$(ASAN_LOGS)/asan:detect_leaks=0:abort_on_error=0 \
	    UBSAN_OPTIONS=log_path=$(ASAN_LOGS)/ubsan:print_stacktrace=1; \
	    for t in $(UNIT_TESTS:$(BUILD)/%=$(ASAN_BUILD)/%); do echo "# $$t"; $$t; done
	-TK_BUILD=$(ASAN_BUILD) TK_NGINX_PRELOAD=$(ASAN_LIBASAN) \
	    ASAN_OPTIONS=log_path=$(ASAN_LOGS)/asan:detect_leaks=0:abort_on_error=0 \
	    UBSAN_OPTIONS=log_path=$(ASAN_LOGS)/ubsan:print_stacktrace=1 \
	    $(PROVE) $(PROVE_FLAGS) $(E2E) 2>&1 | tee $(ASAN_BUILD)/prove.log
	@if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then \
	    echo "asan: sanitizer reports in $(ASAN_LOGS):"; ls $(ASAN_LOGS); \
	    head -40 $(ASAN_LOGS)/*; exit 1; fi
	@grep -q '^Result: PASS' $(ASAN_BUILD)/prove.log || { echo "asan: prove failed"; exit 1; }
	@echo "asan: no sanitizer report"

# ---- Debian packages (debian/, scripts/deb.sh, docs/install.md) ---------
#   make deb        -- build/deb/libnginx-mod-http-ticket_*.deb, ticket-mailbridge_*.deb
#   make deb-check  -- install both in a fresh Debian 12 root and deliver a mail
.PHONY: deb deb-check
SHARED ?= $(CURDIR)/../shared
deb:
	@scripts/deb.sh

deb-check:
	$(SHARED)/tools/fresh-debian-check --tmpfs --cmd 'make deb && scripts/deb-install-check.sh'

# ---- fault and load tests (not part of make test): stress/*.t ----------
#   make stress [STRESS=stress/mail_kill.t] [STRESS_QUICK=1]
#       kill -9 of mailbridge/deliver/Redis under mail in and out, Redis
#       restarts and stalls under web load, IMAP/SMTP down for minutes,
#       Redis out of memory and disk full, make run's supervisor, 200
#       clients for 60 s.  Numbers and durations: stress/lib.pl (env
#       STRESS_*); STRESS_QUICK=1 is a few minutes.  One line per test
#       goes to build/stress-results.txt (the figures of docs/reliability.md).
STRESS ?= stress/
.PHONY: stress
stress: all
	$(PROVE) -v $(STRESS)
