# user_files, init, SKIP/LAST, skip_nginx, skip_eval, todo, must_die,
# add_block_preprocessor, access_log, shutdown_error_log.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}
use Test::Nginx::Socket;

repeat_each(2);
plan tests => repeat_each() * 29 + 1;
no_shuffle();

# Blocks without a request get one; blocks marked "--- default_body" get
# the location they need.
add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->request && !defined $block->must_die) {
        $block->set_value("request", "GET /t");
    }
    if (defined $block->default_body) {
        $block->set_value("config", 'location = /t { return 200 "preprocessed\n"; }');
    }
});

run_tests();

__DATA__

=== TEST 1: user_files, including a subdirectory and a fixed mtime
--- config
--- user_files
>>> foo.txt
hello from a file
>>> sub/dir/bar.html 199001021530
<p>bar</p>
--- request eval
["GET /foo.txt", "GET /sub/dir/bar.html"]
--- response_headers eval
["Content-Length: 18", "Last-Modified: Tue, 02 Jan 1990 15:30:00 GMT"]
--- response_body eval
["hello from a file\n", "<p>bar</p>\n"]



=== TEST 2: init runs Perl before the requests
--- config
--- init
open my $out, '>', "$HtmlDir/from-init.txt" or die $!;
print $out "written by init on port $::ServerPort\n";
close $out;
--- request
GET /from-init.txt
--- response_body eval
"written by init on port $::ServerPort\n"



=== TEST 3: SKIP drops the block
--- SKIP
--- config
    location = /t { return 200 "never"; }
--- response_body
this would fail



=== TEST 4: skip_nginx skips when the version matches
--- skip_nginx: 2: < 999.0.0
--- config
    location = /t { return 500; }
--- response_body
this would fail



=== TEST 5: skip_nginx runs the block when the version does not match
--- skip_nginx: 2: < 1.0.0
--- config
    location = /t { return 200 "ran\n"; }
--- response_body
ran



=== TEST 6: skip_eval
--- skip_eval: 2: 1 + 1 == 2
--- config
    location = /t { return 500; }
--- response_body
this would fail



=== TEST 7: todo skips as TODO
--- todo: 2: not done yet
--- config
    location = /t { return 500; }
--- response_body
this would fail



=== TEST 8: must_die: nginx refuses the configuration
--- main_config
no_such_directive on;
--- must_die
--- error_log
unknown directive "no_such_directive"



=== TEST 9: must_die with the expected exit code
--- config
    location = /t { return 200 }
--- must_die: 1



=== TEST 10: add_block_preprocessor filled in config and request
--- default_body
--- response_body
preprocessed



=== TEST 11: access_log and no_access_log
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t?from=access_log
--- access_log
"GET /t?from=access_log HTTP/1.1" 200
--- no_access_log
POST
--- response_body
ok



=== TEST 12: shutdown_error_log is checked once nginx has stopped
--- config
    location = /t { return 200 "ok\n"; }
--- response_body
ok
--- shutdown_error_log
(SIGQUIT) received



=== TEST 13: LAST: the blocks after this one are not run
--- LAST
--- config
    location = /t { return 200 "last\n"; }
--- response_body
last



=== TEST 14: never run
--- config
    location = /t { return 200 "x"; }
--- response_body
this would fail
