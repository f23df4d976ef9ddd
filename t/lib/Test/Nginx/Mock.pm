package Test::Nginx::Mock;

# The one-shot TCP and UDP peers behind --- tcp_listen / --- udp_listen.
# Each is a forked child that serves exactly one connection (or datagram)
# per repeat of a block and records what it received in a file, which the
# parent compares with --- tcp_query / --- udp_query afterwards.

use strict;
use warnings;

use Exporter 'import';
use File::Temp ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use Socket qw(SOCK_STREAM SOCK_DGRAM);
use POSIX qw(:sys_wait_h SIGTERM SIGKILL);
use Time::HiRes qw(sleep time);
use Test::Nginx::Util qw(bail_out parse_time add_cleanup_handler);

our @EXPORT_OK = qw(start_tcp_server start_udp_server stop_server read_query);

my %Live;    # pid => 1 for every mock still running
add_cleanup_handler(sub { stop_server({ pid => $_ }) for keys %Live });

sub query_file {
    my ($fh, $fname) = File::Temp::tempfile('ngx-mock-XXXXXX', TMPDIR => 1);
    close $fh;
    return $fname;
}

sub listen_socket {
    my ($name, $target, $type) = @_;
    my $udp = $type eq 'udp';
    if ($target =~ /^\d+$/) {
        my $sock;
        # The previous block's mock may still be releasing the port.
        for my $try (1 .. 30) {
            $sock = IO::Socket::INET->new(
                LocalAddr => '127.0.0.1', LocalPort => $target,
                Proto => $udp ? 'udp' : 'tcp', ReuseAddr => 1,
                ($udp ? () : (Listen => 64)),
            ) and last;
            sleep 0.1;
        }
        return $sock || bail_out("$name - cannot listen on $type port $target: $!");
    }
    if ($target =~ m{\S+\.sock$}) {
        unlink $target if -e $target;
        return IO::Socket::UNIX->new(
            Local => $target, Type => $udp ? SOCK_DGRAM : SOCK_STREAM,
            ($udp ? () : (Listen => 64)),
        ) || bail_out("$name - cannot listen on $target: $!");
    }
    bail_out("$name - bad ${type}_listen target: $target");
}

sub spawn {
    my ($name, $sock, $serve) = @_;
    my $pid = fork() // bail_out("$name - fork() failed: $!");
    if ($pid == 0) {
        # Never run the parent's END blocks or Test::Builder endings here.
        eval { $serve->() };
        warn "$name - mock server: $@" if $@;
        POSIX::_exit(0);
    }
    $Live{$pid} = 1;
    return $pid;
}

sub write_file {
    my ($file, $data) = @_;
    return unless $file;
    open my $out, '>', "$file.tmp" or die "cannot write $file: $!\n";
    binmode $out;
    print $out $data;
    close $out;
    rename "$file.tmp", $file;    # the parent never sees half a query
}

sub resolve_reply {
    my ($reply, $got) = @_;
    $reply = $reply->($got) if ref $reply eq 'CODE';
    return ref $reply eq 'ARRAY' ? @$reply : defined $reply ? ($reply) : ();
}

# --- tcp_listen, tcp_reply (string, array of pieces or code), tcp_query,
# tcp_query_len, tcp_reply_delay, tcp_no_close, tcp_shutdown(+_delay)
sub start_tcp_server {
    my ($block) = @_;
    my $name  = $block->name;
    my $reply = $block->tcp_reply;
    if (!defined $reply && !defined $block->tcp_shutdown) {
        bail_out("$name - no --- tcp_reply specified but --- tcp_listen is specified");
    }
    my $want_len = $block->tcp_query_len;
    my $qfile;
    if (defined $block->tcp_query || defined $want_len) {
        $want_len //= length $block->tcp_query;
        $qfile = query_file();
        write_file($qfile, '');
    }
    my $sock = listen_socket($name, $block->tcp_listen, 'tcp');

    my $pid = spawn($name, $sock, sub {
        my $client;
        until ($client = $sock->accept) { sleep 0.01 }
        my ($no_read, $no_write);
        if (defined(my $how = $block->tcp_shutdown)) {
            sleep parse_time($block->tcp_shutdown_delay) if $block->tcp_shutdown_delay;
            $client->shutdown($how);
            ($how == 0 || $how == 2) ? ($no_read = 1) : ($no_write = 1);
        }
        my $buf = '';
        unless ($no_read) {
            while (1) {
                my $chunk = '';
                my $ok = $client->recv($chunk, 4096);
                last if !defined $ok || $chunk eq '';
                $buf .= $chunk;
                write_file($qfile, $buf);
                # Without an expected length one read is the whole query.
                last if !$want_len || length $buf >= $want_len;
            }
        }
        if (my $delay = parse_time($block->tcp_reply_delay)) {
            sleep $delay;
        }
        unless ($no_write) {
            for my $piece (resolve_reply($reply, $buf)) {
                defined $client->send($piece)
                    or warn "$name - tcp mock failed to send reply: $!\n";
            }
        }
        if (defined $block->tcp_no_close) {
            sleep 1 while 1;
        }
        $client->close;
    });
    close $sock;    # the child owns the listening socket now
    return { pid => $pid, query_file => $qfile, kind => 'tcp' };
}

# --- udp_listen, udp_reply (string, array or code), udp_query,
# udp_reply_delay
sub start_udp_server {
    my ($block) = @_;
    my $name  = $block->name;
    my $reply = $block->udp_reply;
    bail_out("$name - no --- udp_reply specified but --- udp_listen is specified")
        unless defined $reply;
    my $qfile;
    if (defined $block->udp_query) {
        $qfile = query_file();
        write_file($qfile, '');
    }
    my $target = $block->udp_listen;
    my $sock = listen_socket($name, $target, 'udp');

    my $pid = spawn($name, $sock, sub {
        my $buf = '';
        my $peer = $sock->recv($buf, 65536);
        die "udp recv failed: $!\n" unless defined $peer;
        write_file($qfile, $buf);
        if (my $delay = parse_time($block->udp_reply_delay)) {
            sleep $delay;
        }
        for my $piece (resolve_reply($reply, $buf)) {
            defined $sock->send($piece, 0, $peer)
                or warn "$name - udp mock failed to send reply: $!\n";
        }
    });
    close $sock;
    return { pid => $pid, query_file => $qfile, kind => 'udp',
             unix_path => ($target =~ /\.sock$/ ? $target : undef) };
}

# Contents the mock received, '' when nothing arrived.
sub read_query {
    my ($srv) = @_;
    return '' unless $srv && $srv->{query_file};
    open my $in, '<', $srv->{query_file} or return '';
    binmode $in;
    local $/;
    my $data = <$in>;
    close $in;
    return $data // '';
}

sub stop_server {
    my ($srv) = @_;
    my $pid = $srv->{pid} or return;
    if ($Live{$pid}) {
        delete $Live{$pid};
        if (waitpid($pid, WNOHANG) == 0) {
            kill SIGTERM, $pid;
            my $deadline = time + 2;
            while (waitpid($pid, WNOHANG) == 0) {
                if (time > $deadline) { kill SIGKILL, $pid; waitpid($pid, 0); last }
                sleep 0.01;
            }
        }
    }
    unlink $srv->{query_file} if $srv->{query_file};
    unlink $srv->{unix_path} if $srv->{unix_path};
}

1;
