package TestPeers;

# Starts real peer servers (redis-server, memcached) on free loopback ports
# for a test file and stops them when the file ends. The test command
# installs them (scripts/install-deps.sh); a file is skipped when one is
# missing, so a bare machine still runs the rest.

use strict;
use warnings;
use IO::Socket::INET;
use Test::More ();
use Exporter 'import';

our @EXPORT_OK = qw(start_redis start_memcached);

my @children;
my $owner = $$;

END {
    if ($$ == $owner) {
        kill 'TERM', $_ for @children;
        waitpid $_, 0 for @children;
    }
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub wait_port {
    my ($port) = @_;
    for (1 .. 100) {
        return 1 if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        select undef, undef, undef, 0.05;
    }
    die "peer on port $port did not start";
}

sub spawn {
    my ($name, @argv) = @_;
    my $bin = `command -v $name 2>/dev/null`;
    chomp $bin;
    if (!$bin) {
        Test::More::plan(skip_all => "$name not installed");
        exit 0;
    }
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec $bin, @argv;
        exit 1;
    }
    push @children, $pid;
}

# Starts redis-server; sets and returns $ENV{TEST_NGINX_REDIS_PORT}.
sub start_redis {
    my $port = free_port();
    spawn('redis-server', '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no');
    wait_port($port);
    return $ENV{TEST_NGINX_REDIS_PORT} = $port;
}

# Starts memcached; sets and returns $ENV{TEST_NGINX_MEMCACHED_PORT}.
sub start_memcached {
    my $port = free_port();
    spawn('memcached', '-l', '127.0.0.1', '-p', $port, '-U', '0', '-u', 'root');
    wait_port($port);
    return $ENV{TEST_NGINX_MEMCACHED_PORT} = $port;
}

1;
