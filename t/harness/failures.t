# Expected failures: runs the fixtures in t/harness/fixtures/ (files named
# *.tf so that "prove -r" does not pick them up) and checks that exactly the
# wrong expectations are reported as "not ok".  A section that silently
# accepted anything would show up here as a missing failure.
use strict;
use warnings;

use FindBin ();
use Test::More;

BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}

my $lib = "$FindBin::Bin/../lib";
my $fixtures = "$FindBin::Bin/fixtures";

# Each fixture runs on its own random port and server root, so this file
# never collides with the nginx of another harness test.
sub run_fixture {
    my ($file, @cmd) = @_;
    local $ENV{TEST_NGINX_RANDOMIZE} = 1;
    @cmd = ($^X, "-I$lib", "$fixtures/$file") unless @cmd;
    my $out = `@cmd 2>&1`;
    return ($? >> 8, $out);
}

sub failures_of {
    my $out = shift;
    return map { s/\\#/#/gr } $out =~ /^not ok \d+ - (.*)$/mg;
}

# Every pattern must match exactly one "not ok" line, and there must be
# no other failures.
sub expect_failures {
    my ($file, $ntests, @expected) = @_;
    my ($code, $out) = run_fixture($file);
    my @failed = failures_of($out);
    my $ran = () = $out =~ /^(?:not )?ok \d+/mg;
    isnt($code, 0, "$file: exits with failure");
    is($ran, $ntests, "$file: ran $ntests tests");
    for my $re (@expected) {
        my @hits = grep { $_ =~ $re } @failed;
        is(scalar @hits, 1, "$file: reported as failed: $re")
            or diag($out);
    }
    is(scalar @failed, scalar @expected, "$file: no unexpected failures")
        or diag(join "\n", @failed);
}

expect_failures('bad_response.tf', 26,
    qr/^TEST 1: wrong response_body - response_body - response is expected \(repeated req 0, req 0\)$/,
    qr/^TEST 2: wrong error_code - status code ok$/,
    qr/^TEST 3: missing error_code means 200 is expected - status code ok$/,
    qr/^TEST 4: wrong response_body_like - response_body_like - response is expected \(abc\)$/,
    qr/^TEST 5: .* - response_body_unlike - response is expected \(abc\)$/,
    qr/^TEST 6: .* - header X-A ok$/,
    qr/^TEST 6: .* - header Server not present in the raw headers$/,
    qr/^TEST 7: .* - header X-A like ok$/,
    qr/^TEST 8: .* - raw resp headers like$/,
    qr/^TEST 8: .* - raw resp headers unlike$/,
    qr/^TEST 9: .* - response_body - response is expected \(repeated req 0, req 1\)$/,
    qr/^TEST 10: error_code_like mismatch - status code ok$/,
    qr/^TEST 11: .* - response_body - response is expected \(repeated req 0, req 1\)$/,
);

expect_failures('bad_log.tf', 13,
    qr/^TEST 1: .* - pattern "this text is never logged" should match a line in error\.log \(req 0\)$/,
    qr/^TEST 2: .* - pattern "No such file or directory" should not match any line in error\.log but matches line ".*open\(\).*" \(req 0\)$/,
    qr/^TEST 3: grep_error_log_out mismatch - grep_error_log_out \(req 0\)$/,
    qr/^TEST 4: .* - pattern "\(\?\^:\\\[error\\\]\.\*never\)" should match a line in error\.log \(req 0\)$/,
    qr/^TEST 5: .* - pattern "POST \/nowhere" should match a line in access\.log \(req 0\)$/,
);

expect_failures('bad_mock.tf', 9,
    qr/^TEST 1: tcp_query differs - tcp_query ok$/,
    qr/^TEST 2: tcp_query_len differs - TCP query length ok$/,
    qr/^TEST 3: udp_query differs - udp_query ok$/,
);

expect_failures('bad_misc.tf', 5,
    qr/^ERROR: client socket timed out - TEST 1: client times out \(no --- abort\)$/,
    qr/^TEST 2: must_die but nginx starts fine - die as expected$/,
    qr/^TEST 3: .* - nginx started \(exit code 1: .*unknown directive "no_such_directive"/,
);

expect_failures('crash.tf', 3,
    qr/^TEST 1: .* - nginx did not crash$/,
);

# --- ONLY: the marked block alone runs (and passes its plan of 2).
{
    my ($code, $out) = run_fixture('only.tf');
    is($code, 0, 'only.tf: passes');
    my @names = $out =~ /^ok \d+ - (.*)$/mg;
    is_deeply(\@names, [
        'TEST 2: the only one - status code ok',
        'TEST 2: the only one - response_body - response is expected (repeated req 0, req 0)',
    ], 'only.tf: only the ONLY block ran');
    like($out, qr/I found ONLY/, 'only.tf: ONLY is announced');
}

# A server port taken before nginx binds it (under "prove -j N", by
# another file's test server between two of this file's blocks): the
# block is retried on a new port instead of failing.
{
    my ($code, $out) = run_fixture('port_taken.tf');
    is($code, 0, 'port_taken.tf: passes');
    my ($taken, $used) = $out =~ /^# taken port (\d+), ran on (\d+)$/m;
    ok(defined $used && $used != $taken, 'port_taken.tf: ran on another port')
        or diag($out);
}

# A failing file must make prove itself fail.
{
    my ($code, $out) = run_fixture('bad_log.tf', 'prove', "-I$lib", "$fixtures/bad_log.tf");
    isnt($code, 0, 'prove exits non-zero on a failing file');
    like($out, qr/^Result: FAIL$/m, 'prove prints Result: FAIL');
}

done_testing();
