# Environment knobs that a test file cannot show about itself:
# TEST_NGINX_PORT, TEST_NGINX_SERVROOT, TEST_NGINX_LOG_LEVEL and
# TEST_NGINX_NO_CLEAN (nginx is left running for inspection).
use strict;
use warnings;

use Config ();
use FindBin ();
use File::Temp ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(sleep);
use Test::More;

BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}

# The nginx left running by TEST_NGINX_NO_CLEAN outlives the fixture; make
# this process the subreaper of such orphans (Linux prctl) so that it can
# reap that nginx below instead of leaving a zombie to PID 1.
my %prctl_nr = ('x86_64-linux' => 157, 'aarch64-linux' => 167);
my ($arch) = $Config::Config{archname} =~ /^(x86_64-linux|aarch64-linux)/;
syscall($prctl_nr{$arch}, 36, 1, 0, 0, 0) if $arch;    # PR_SET_CHILD_SUBREAPER

my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
my $port = $probe->sockport;
close $probe;

my $root = File::Temp->newdir('harness-servroot-XXXXXX', TMPDIR => 1);
my $out = do {
    local $ENV{TEST_NGINX_PORT} = $port;
    local $ENV{TEST_NGINX_SERVROOT} = "$root";
    local $ENV{TEST_NGINX_LOG_LEVEL} = 'warn';
    local $ENV{TEST_NGINX_NO_CLEAN} = 1;
    delete local $ENV{TEST_NGINX_SERVER_PORT};
    delete local $ENV{TEST_NGINX_RANDOMIZE};
    `$^X -I$FindBin::Bin/../lib $FindBin::Bin/fixtures/env.tf 2>&1`;
};
is($? >> 8, 0, 'fixture passes') or diag($out);
like($out, qr/^ok 2 - .*response is expected/m, 'body was $TEST_NGINX_SERVER_PORT');

my $conf = do { local (@ARGV, $/) = "$root/conf/nginx.conf"; <> } // '';
like($conf, qr/^\s*listen 127\.0\.0\.1:$port;$/m, 'TEST_NGINX_PORT sets the listen port');
like($conf, qr/^error_log \Q$root\E\/logs\/error\.log warn;$/m,
     'TEST_NGINX_SERVROOT and TEST_NGINX_LOG_LEVEL');

my ($pid) = (do { local (@ARGV, $/) = "$root/logs/nginx.pid"; <> } // '') =~ /(\d+)/;
ok($pid && kill(0, $pid), 'TEST_NGINX_NO_CLEAN leaves nginx running');
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
ok($sock, 'and it still accepts connections');
close $sock if $sock;

# We started that nginx (through the fixture), so stop it.
if ($pid) {
    kill 'QUIT', $pid;
    for (1 .. 250) {
        last if waitpid($pid, POSIX::WNOHANG()) != 0;    # reaped, or not ours
        sleep 0.02;
    }
}

done_testing();
