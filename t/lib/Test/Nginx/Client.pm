package Test::Nginx::Client;

# A deliberately dumb HTTP/1.x client: it writes the prepared request bytes
# (with optional pauses between pieces) and reads until the server closes
# the connection or the socket stays idle for longer than the timeout.
# parse_response() then splits what was read into responses.

use strict;
use warnings;

use Exporter 'import';
use IO::Select ();
use IO::Socket::INET ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(send_request parse_response);

# %args: pieces (array of { value, delay_before }), addr, port, timeout,
# middle_delay, shutdown (shutdown(2) "how" once everything is written).
# Returns { raw => $bytes, timed_out => 0|1, error => $connect_error }.
sub send_request {
    my (%args) = @_;
    my $timeout = $args{timeout};
    my @pieces = @{ $args{pieces} };

    my ($sock, $err);
    # nginx is started before we get here, but give a slow start (or a
    # previous nginx still releasing the port) a moment.
    for my $try (1 .. 40) {
        $sock = IO::Socket::INET->new(
            PeerAddr => $args{addr}, PeerPort => $args{port},
            Proto => 'tcp', Timeout => $timeout,
        ) and last;
        $err = $!;
        sleep 0.05;
    }
    return { raw => '', timed_out => 0, error => "$err" } unless $sock;
    $sock->blocking(0);
    binmode $sock;

    local $SIG{PIPE} = 'IGNORE';
    my ($resp, $timed_out) = ('', 0);
    my $buf = '';
    my $writing = 1;
    my $first = 1;
    my $next_piece = sub {
        my $p = shift @pieces or return 0;
        my $delay = defined $p->{delay_before} ? $p->{delay_before}
                  : $first ? undef : $args{middle_delay};
        sleep $delay if $delay;
        $first = 0;
        $buf = $p->{value} // '';
        return 1;
    };
    $writing = $next_piece->();

    my $sel = IO::Select->new($sock);
    while (1) {
        my ($r, $w) = IO::Select->select($sel, $writing ? $sel : undef, undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            $timed_out = 1;
            last;
        }
        if ($w && @$w) {
            while ($writing) {
                if ($buf eq '') {
                    unless ($next_piece->()) {
                        $writing = 0;
                        shutdown($sock, $args{shutdown}) if defined $args{shutdown};
                        last;
                    }
                    next;
                }
                my $n = syswrite $sock, $buf;
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK;
                    # The server may answer (e.g. 413) and close before
                    # taking the whole request: keep reading.
                    $writing = 0;
                    last;
                }
                substr($buf, 0, $n) = '';
            }
        }
        if ($r && @$r) {
            my $n = sysread $sock, my $chunk, 65536;
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                last;    # e.g. connection reset
            }
            last if $n == 0;
            $resp .= $chunk;
        }
    }
    close $sock;
    return { raw => $resp, timed_out => $timed_out };
}

# A parsed response: code (undef if unparsable), message, protocol,
# headers (ordered [name, value] pairs) and content.
package Test::Nginx::Response {
    sub new { my ($class, %f) = @_; bless { headers => [], %f }, $class }
    sub code { $_[0]{code} }
    sub content { my $s = shift; $s->{content} = shift if @_; $s->{content} }
    # Like HTTP::Headers in scalar context: repeated headers are joined
    # with ", "; lookup ignores case.
    sub header {
        my ($s, $key) = @_;
        my @v = map { $_->[1] } grep { lc $_->[0] eq lc $key } @{ $s->{headers} };
        return wantarray ? @v : @v ? join(', ', @v) : undef;
    }
}

# Returns ($res, $raw_headers, $left, $error).  $left is whatever follows
# this response (the next pipelined response); $error describes a broken
# chunked body.
sub parse_response {
    my ($raw, %opts) = @_;
    $raw //= '';

    if ($opts{http09}) {
        return (Test::Nginx::Response->new(code => 200, content => $raw), '', '');
    }

    my $hdr_end = index $raw, "\r\n\r\n";
    my ($head, $rest);
    if ($hdr_end >= 0) {
        $head = substr $raw, 0, $hdr_end + 2;
        $rest = substr $raw, $hdr_end + 4;
    } else {
        ($head, $rest) = ($raw, '');
    }

    my $res = Test::Nginx::Response->new(content => '');
    my @lines = split /\r?\n/, $head;
    my $status = shift(@lines) // '';
    if ($status =~ m{^(HTTP/\d+(?:\.\d+)?)[ \t]+(\d{3})(?:[ \t]+(.*))?$}) {
        @$res{qw(protocol code message)} = ($1, $2, $3 // '');
    } else {
        # Not HTTP at all: expose everything as the body.
        $res->{content} = $raw;
        return ($res, '', '');
    }
    for my $line (@lines) {
        if ($line =~ /^[ \t]+(.*)/ && @{ $res->{headers} }) {
            $res->{headers}[-1][1] .= " $1";    # obsolete line folding
        } elsif ($line =~ /^([^:]+?)\s*:\s*(.*?)\s*$/) {
            push @{ $res->{headers} }, [$1, $2];
        }
    }

    my $code = $res->{code};
    if ($opts{head} || $code =~ /^1/ || $code == 204 || $code == 304) {
        return ($res, $head, $rest);
    }

    my $te  = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    if (defined $te && $te =~ /\bchunked\b/i) {
        my ($body, $left, $err) = dechunk($rest);
        $res->{content} = $body;
        return ($res, $head, $left, $err);
    }
    if (defined $len && $len =~ /^\s*(\d+)/) {
        $len = $1;
        if (length $rest < $len) {
            $res->{content} = $rest;
            $res->{truncated} = $len;
            return ($res, $head, '');
        }
        $res->{content} = substr $rest, 0, $len;
        return ($res, $head, substr($rest, $len));
    }
    $res->{content} = $rest;    # delimited by connection close
    return ($res, $head, '');
}

sub dechunk {
    my ($raw) = @_;
    my $body = '';
    pos($raw) = 0;
    while (1) {
        if ($raw !~ /\G[ \t]*([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
            return ($body, '', pos($raw) < length $raw
                ? "invalid chunked body received: " . substr($raw, pos $raw, 40)
                : "no last chunk found - $raw");
        }
        my $size = hex $1;
        if ($size == 0) {
            # Optional trailer fields, then the final CRLF.
            $raw =~ /\G(?:[^\r\n]+\r\n)*\r\n/gc
                or return ($body, '', "invalid chunked data received (no final CRLF)");
            return ($body, substr($raw, pos $raw), undef);
        }
        if (length($raw) - pos($raw) < $size) {
            $body .= substr $raw, pos $raw;
            return ($body, '', "invalid chunked data received (not enough "
                               . "octets for the data section)");
        }
        $body .= substr $raw, pos($raw), $size;
        pos($raw) += $size;
        $raw =~ /\G\r\n/gc
            or return ($body, '', "invalid chunked data received (expected CRLF).");
    }
}

1;
