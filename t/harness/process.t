# File-wide settings: master_on, workers, worker_connections, env_to_nginx,
# log_level; plus limit_req across several requests on one nginx.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}
use Test::Nginx::Socket;

master_on();
workers(2);
worker_connections(256);
env_to_nginx("HARNESS_SELF_TEST=1");
log_level('info');
repeat_each(1);

plan tests => repeat_each() * 10 + 6;
no_shuffle();
run_tests();

# The generated configuration (of the last block) is left in the server root.
my $conf = do { local (@ARGV, $/) = "$ServRoot/conf/nginx.conf"; <> };
like($conf, qr/^master_process on;$/m, 'master_on() in nginx.conf');
like($conf, qr/^worker_processes\s+2;$/m, 'workers(2) in nginx.conf');
like($conf, qr/^\s*worker_connections 256;$/m, 'worker_connections(256) in nginx.conf');
like($conf, qr/^env HARNESS_SELF_TEST=1;$/m, 'env_to_nginx in nginx.conf');
# The last block overrides the file-wide log_level('info') (TEST 1 shows
# that one taking effect).
like($conf, qr/^error_log \S+ debug;$/m, '--- log_level overrides log_level()');
unlike($conf, qr/load_module/, 'TEST_NGINX_LOAD_MODULES="" loads nothing');

__DATA__

=== TEST 1: two workers start under a master
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval: qr/start worker process \d+/
--- grep_error_log_out eval
qr/\A(?:start worker process \d+\n){2}\z/
--- no_error_log
[debug]



=== TEST 2: limit_req: the second request of the block is rejected
Error log patterns are checked after each request (against that request's
lines), hence the alternation and the per-block debug log level.
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
--- config
    location = /t {
        # limit_req runs after the rewrite phase, so no "return" here
        limit_req zone=one;
        root html;
    }
--- user_files
>>> t
allowed
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 503]
--- response_body_like eval
["^allowed\$", "503 Service"]
--- log_level: debug
--- error_log eval
[qr/(?:limiting requests|http request line)/]
