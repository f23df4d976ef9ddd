# error_log, no_error_log, grep_error_log(_out), log_level, wait.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}
use Test::Nginx::Socket;

repeat_each(2);
plan tests => repeat_each() * 24;
no_shuffle();
run_tests();

__DATA__

=== TEST 1: error_log lines are substrings, one test each
--- config
    location = /t {
        root html;
    }
--- request
GET /t
--- error_code: 404
--- error_log
open() "
/html/t" failed
(2: No such file or directory)



=== TEST 2: no_error_log, one test per line
--- config
    location = /t {
        return 200 "fine\n";
    }
--- request
GET /t
--- response_body
fine
--- no_error_log
[error]
[crit]



=== TEST 3: error_log eval with qr// and plain strings mixed
--- config
    location = /t {
        root html;
    }
--- request
GET /t
--- error_code: 404
--- error_log eval
[qr/\[error\] \d+#\d+: \*\d+ open\(\)/, "No such file"]
--- no_error_log eval
qr/\[emerg\]/



=== TEST 4: grep_error_log with a plain string
--- config
    location = /t {
        root html;
    }
--- request
GET /t
--- error_code: 404
--- grep_error_log: No such file or directory
--- grep_error_log_out
No such file or directory



=== TEST 5: grep_error_log with a regex, two requests' worth of matches
--- config
    location = /t {
        root html;
        try_files /a /b =404;
    }
--- request
GET /t
--- error_code: 404
--- log_level: debug
--- grep_error_log eval: qr/trying to use file: "\/[ab]"/
--- grep_error_log_out
trying to use file: "/a"
trying to use file: "/b"



=== TEST 6: grep_error_log_out as an array: one entry per repeat
--- config
    location = /t {
        root html;
    }
--- request
GET /t
--- error_code: 404
--- grep_error_log: failed (2: No such
--- grep_error_log_out eval
["failed (2: No such\n", "failed (2: No such\n"]



=== TEST 7: per-block log_level hides debug lines
--- config
    location = /t {
        return 200 "ok\n";
    }
--- log_level: warn
--- request
GET /t
--- response_body
ok
--- no_error_log
[debug]
[info]



=== TEST 8: wait before looking at the log
--- config
    location = /t {
        root html;
    }
--- request
GET /t
--- error_code: 404
--- wait: 0.1
--- error_log
No such file or directory
