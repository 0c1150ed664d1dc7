/*
 * N-API bindings of the ff_* socket API (posix/ff_api.h) for the TypeScript module `ffnet/posix`.
 *
 * Each binding is thin: TypeScript validates arguments and turns failures into errors; these
 * functions convert values and return the call's result, or -errno when it failed. Constants
 * (AF_INET, SO_REUSEADDR, EPOLLIN, ...) come from the system headers here, never retyped in
 * TypeScript. The wake-up of ffnet/dgram and the awaitable ff_epoll_wait (a uv_poll on ff_wake_fd)
 * belongs to the stack object (native/addon.cc), which closes that fd. A socket is used only by the
 * thread that opened it: the others get ERR_FFNET_WRONG_THREAD.
 */
#include <napi.h>

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <vector>

extern "C" {
#include "posix/ff_api.h"
#include "stack/stack.h"
#include "posix/ff_dgram.h"
}

namespace {

Napi::Value Result(Napi::Env env, long rc)
{
	return Napi::Number::New(env, rc < 0 ? -errno : static_cast<double>(rc));
}

/**
 * A send's result. In inline mode the datagrams wait on their lcore's TX ring for the kick that the
 * JavaScript side schedules once per synchronous run of sends (kickTx, from a microtask), so that a
 * run leaves in full transmit bursts; a ring that already holds a full burst is drained at once.
 */
Napi::Value Sent(Napi::Env env, long rc)
{
	double result = rc < 0 ? -errno : static_cast<double>(rc);
	ffs_stack_kick_tx_full(ffs_stack_current());
	return Napi::Number::New(env, result);
}

int32_t Int(const Napi::CallbackInfo &info, size_t i)
{
	return info[i].As<Napi::Number>().Int32Value();
}

/**
 * A descriptor argument: -1 (so the call fails with EBADF, as the kernel's would) unless it is a
 * non-negative int32. Int32Value wraps modulo 2^32, which would turn 2^32 into socket 0.
 */
int Fd(const Napi::CallbackInfo &info, size_t i)
{
	if (!info[i].IsNumber())
		return -1;
	double d = info[i].As<Napi::Number>().DoubleValue();
	return d >= 0 && d <= INT32_MAX && d == static_cast<double>(static_cast<int32_t>(d)) ? static_cast<int>(d) : -1;
}

/**
 * A descriptor argument that names a socket: Fd(), after checking that the calling thread's context
 * owns it. Each thread's sockets signal only that thread's context (its wake-ups, its event loop),
 * so a socket used from another thread would wait on wake-ups that never come there.
 */
int OwnFd(const Napi::CallbackInfo &info, size_t i)
{
	int fd = Fd(info, i);
	if (fd >= 0 && ff_sock_foreign(fd)) {
		Napi::Error e = Napi::Error::New(info.Env(), "socket " + std::to_string(fd) +
								     " belongs to another thread (a socket is used only by the thread that created it)");
		e.Set("code", "ERR_FFNET_WRONG_THREAD");
		throw e;
	}
	return fd;
}

/**
 * Parses a destination (network order out): a host-order number, as ffnet/dgram passes the addresses
 * it parsed once per destination, or a dotted quad; false when it is neither.
 */
bool ParseAddr(const Napi::Value &v, in_addr *out)
{
	if (v.IsNumber()) {
		double d = v.As<Napi::Number>().DoubleValue();
		if (!(d >= 0 && d <= UINT32_MAX && d == static_cast<double>(static_cast<uint32_t>(d))))
			return false;
		out->s_addr = htonl(static_cast<uint32_t>(d));
		return true;
	}
	return v.IsString() && inet_pton(AF_INET, v.As<Napi::String>().Utf8Value().c_str(), out) == 1;
}

/**
 * The interface index of a `%scope` suffix: a number, or a port name `portN` (index N + 1, as the
 * stack numbers its interfaces); 0 when it names nothing (the call then fails as the kernel's does).
 */
uint32_t ScopeId(const std::string &scope)
{
	char *end = nullptr;
	unsigned long n = strtoul(scope.c_str(), &end, 10);
	if (!scope.empty() && *end == '\0')
		return static_cast<uint32_t>(n);
	if (scope.compare(0, 4, "port") == 0 && scope.size() > 4) {
		n = strtoul(scope.c_str() + 4, &end, 10);
		if (*end == '\0' && n < UINT32_MAX)
			return static_cast<uint32_t>(n + 1);
	}
	return 0;
}

/**
 * An address argument: IPv4 (a host-order number or a dotted quad) as sockaddr_in, IPv6 (a literal,
 * `%scope` allowed, or a Uint8Array of its 16 bytes) as sockaddr_in6; *len 0 when it is neither.
 */
sockaddr_storage MakeSockaddr(const Napi::Value &addr, const Napi::Value &port_value, socklen_t *len)
{
	sockaddr_storage ss{};
	uint16_t port = htons(static_cast<uint16_t>(port_value.As<Napi::Number>().Uint32Value()));
	auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
	auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	*len = 0;
	if (addr.IsTypedArray()) {
		// An IPv6 address without a scope as its 16 bytes (the dgram shim's parsed destinations).
		Napi::TypedArray bytes = addr.As<Napi::TypedArray>();
		if (bytes.TypedArrayType() != napi_uint8_array || bytes.ByteLength() != 16)
			return ss;
		memcpy(&sin6->sin6_addr, addr.As<Napi::Uint8Array>().Data(), 16);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		*len = sizeof(sockaddr_in6);
		return ss;
	}
	// The text is read out of V8 once: a number or a text without ':' is IPv4, anything else IPv6.
	std::string text;
	if (addr.IsString())
		text = addr.As<Napi::String>().Utf8Value();
	if (addr.IsString() ? text.find(':') == std::string::npos && inet_pton(AF_INET, text.c_str(), &sin->sin_addr) == 1
			    : ParseAddr(addr, &sin->sin_addr)) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		*len = sizeof(sockaddr_in);
		return ss;
	}
	if (!addr.IsString() || text.find(':') == std::string::npos)
		return ss;
	size_t pct = text.find('%');
	if (pct != std::string::npos) {
		sin6->sin6_scope_id = ScopeId(text.substr(pct + 1));
		text.resize(pct);
	}
	if (inet_pton(AF_INET6, text.c_str(), &sin6->sin6_addr) != 1)
		return ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	*len = sizeof(sockaddr_in6);
	return ss;
}

/** An address as text: dotted quad, or IPv6 with `%portN` for a scoped (link-local) one. */
std::string AddrText(const sockaddr_storage &ss)
{
	char buf[INET6_ADDRSTRLEN];
	if (ss.ss_family != AF_INET6)
		return inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(&ss)->sin_addr, buf, sizeof(buf));
	const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
	std::string text = inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	if (sin6->sin6_scope_id)
		text += "%port" + std::to_string(sin6->sin6_scope_id - 1);
	return text;
}

uint16_t PortOf(const sockaddr_storage &ss)
{
	return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6 *>(&ss)->sin6_port
					       : reinterpret_cast<const sockaddr_in *>(&ss)->sin_port);
}

Napi::Value AddrResult(Napi::Env env, int rc, const sockaddr_storage &ss)
{
	if (rc < 0)
		return Napi::Number::New(env, -errno);
	Napi::Object o = Napi::Object::New(env);
	o.Set("address", AddrText(ss));
	o.Set("port", PortOf(ss));
	o.Set("family", ss.ss_family == AF_INET6 ? "IPv6" : "IPv4");
	return o;
}

Napi::Value Socket(const Napi::CallbackInfo &info)
{
	return Result(info.Env(), ff_socket(Int(info, 0), Int(info, 1), Int(info, 2)));
}

/** bind(fd, address, port) */
Napi::Value Bind(const Napi::CallbackInfo &info)
{
	socklen_t len;
	sockaddr_storage ss = MakeSockaddr(info[1], info[2], &len);
	if (!len)
		return Napi::Number::New(info.Env(), -EINVAL);
	return Result(info.Env(), ff_bind(OwnFd(info, 0), reinterpret_cast<sockaddr *>(&ss), len));
}

/** connect(fd, address | null, port): null disconnects (AF_UNSPEC). */
Napi::Value Connect(const Napi::CallbackInfo &info)
{
	if (info[1].IsNull()) {
		sockaddr sa{};
		sa.sa_family = AF_UNSPEC;
		return Result(info.Env(), ff_connect(OwnFd(info, 0), &sa, sizeof(sa)));
	}
	socklen_t len;
	sockaddr_storage ss = MakeSockaddr(info[1], info[2], &len);
	if (!len)
		return Napi::Number::New(info.Env(), -EINVAL);
	return Result(info.Env(), ff_connect(OwnFd(info, 0), reinterpret_cast<sockaddr *>(&ss), len));
}

Napi::Value Close(const Napi::CallbackInfo &info) { return Result(info.Env(), ff_close(OwnFd(info, 0))); }

/** sendto(fd, bytes: Uint8Array, flags, address (as MakeSockaddr takes it) | null, port) */
Napi::Value Sendto(const Napi::CallbackInfo &info)
{
	Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
	if (info[3].IsNull())
		return Sent(info.Env(), ff_sendto(OwnFd(info, 0), buf.Data(), buf.ByteLength(), Int(info, 2), nullptr, 0));
	socklen_t len;
	sockaddr_storage ss = MakeSockaddr(info[3], info[4], &len);
	if (!len)
		return Napi::Number::New(info.Env(), -EINVAL);
	return Sent(info.Env(), ff_sendto(OwnFd(info, 0), buf.Data(), buf.ByteLength(), Int(info, 2),
					  reinterpret_cast<sockaddr *>(&ss), len));
}

/** recvfrom(fd, into: Uint8Array, flags) → [bytes, address, port] or -errno */
Napi::Value Recvfrom(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	ssize_t n = ff_recvfrom(OwnFd(info, 0), buf.Data(), buf.ByteLength(), Int(info, 2), reinterpret_cast<sockaddr *>(&ss), &len);
	if (n < 0)
		return Napi::Number::New(env, -errno);
	Napi::Array out = Napi::Array::New(env, 3);
	out.Set(0u, Napi::Number::New(env, static_cast<double>(n)));
	out.Set(1u, AddrText(ss));
	out.Set(2u, PortOf(ss));
	return out;
}

/** Messages ff_sendmmsg gets per call from Sendmmsg: their headers live on the stack. */
constexpr uint32_t kMmsgChunk = 64;

/**
 * One message's source as an IP_PKTINFO (a host-order IPv4 number) or IPV6_PKTINFO (16 bytes) control
 * message in `control`, attached to msg; nothing for null or undefined.
 */
void SetSource(const Napi::Value &from, uint8_t *control, msghdr *msg)
{
	bool v4 = from.IsNumber();
	if (!v4 && !from.IsTypedArray())
		return;
	size_t len = v4 ? sizeof(in_pktinfo) : sizeof(in6_pktinfo);
	memset(control, 0, CMSG_SPACE(len));
	msg->msg_control = control;
	msg->msg_controllen = CMSG_SPACE(len);
	cmsghdr *c = CMSG_FIRSTHDR(msg);
	c->cmsg_len = CMSG_LEN(len);
	if (v4) {
		in_pktinfo pi{};
		pi.ipi_spec_dst.s_addr = htonl(from.As<Napi::Number>().Uint32Value());
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		Napi::Uint8Array b = from.As<Napi::Uint8Array>();
		in6_pktinfo pi{};
		memcpy(&pi.ipi6_addr, b.Data(), b.ByteLength() < 16 ? b.ByteLength() : 16);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

/**
 * sendmmsg(fd, payloads: Uint8Array[], addresses: (number|string|Uint8Array|null)[], ports: number[], flags,
 * sources?: (number|Uint8Array|null)[]) → sent count or -errno. Addresses as in sendto; a source (IPv4 as a
 * host-order number, IPv6 as 16 bytes) is sent as IP_PKTINFO / IPV6_PKTINFO. Sent in chunks of
 * kMmsgChunk; a chunk sent in part ends the call.
 */
Napi::Value Sendmmsg(const Napi::CallbackInfo &info)
{
	Napi::Array payloads = info[1].As<Napi::Array>();
	Napi::Array addrs = info[2].As<Napi::Array>();
	Napi::Array ports = info[3].As<Napi::Array>();
	int fd = OwnFd(info, 0);
	int flags = Int(info, 4);
	/* As sendmmsg(2), which takes at most UIO_MAXIOV messages per call. */
	uint32_t n = payloads.Length() < UIO_MAXIOV ? payloads.Length() : UIO_MAXIOV;
	mmsghdr msgs[kMmsgChunk];
	iovec iovs[kMmsgChunk];
	sockaddr_storage names[kMmsgChunk];
	bool with_sources = info.Length() > 5 && info[5].IsArray();
	Napi::Array sources = with_sources ? info[5].As<Napi::Array>() : Napi::Array();
	alignas(cmsghdr) uint8_t controls[kMmsgChunk][CMSG_SPACE(sizeof(in6_pktinfo))];
	long total = 0;
	for (uint32_t base = 0; base < n || n == 0; base += kMmsgChunk) {
		uint32_t k = n - base < kMmsgChunk ? n - base : kMmsgChunk;
		for (uint32_t j = 0; j < k; j++) {
			uint32_t i = base + j;
			Napi::Uint8Array b = payloads.Get(i).As<Napi::Uint8Array>();
			iovs[j] = { b.Data(), b.ByteLength() };
			msgs[j] = {};
			msgs[j].msg_hdr.msg_iov = &iovs[j];
			msgs[j].msg_hdr.msg_iovlen = 1;
			Napi::Value a = addrs.Get(i);
			if (!a.IsNull() && !a.IsUndefined()) {
				socklen_t len = 0;
				names[j] = MakeSockaddr(a, ports.Get(i), &len);
				if (!len)
					return total ? Sent(info.Env(), total) : Napi::Number::New(info.Env(), -EINVAL);
				msgs[j].msg_hdr.msg_name = &names[j];
				msgs[j].msg_hdr.msg_namelen = len;
			}
			if (with_sources)
				SetSource(sources.Get(i), controls[j], &msgs[j].msg_hdr);
		}
		int rc = ff_sendmmsg(fd, msgs, k, flags);
		if (rc < 0)
			return total ? Sent(info.Env(), total) : Sent(info.Env(), rc);
		total += rc;
		if (static_cast<uint32_t>(rc) < k || n == 0)
			break;
	}
	return Sent(info.Env(), total);
}

/** kickTx(): hands what this thread's sends queued to the devices (inline mode; see Sent). */
Napi::Value KickTx(const Napi::CallbackInfo &info)
{
	ffs_stack_kick_tx(ffs_stack_current());
	return info.Env().Undefined();
}

/**
 * recvmmsg(fd, arena: Uint8Array, slot: number, max: number, flags, desc: Int32Array) → count or -errno.
 * Datagram i lands at arena[i*slot ..]; desc[i*4 ..] = [length, address (host order, as int32), port, flags].
 * On an AF_INET6 socket → [count, addresses: string[]] (the sources as text; desc's address word 0).
 */
Napi::Value Recvmmsg(const Napi::CallbackInfo &info)
{
	Napi::Uint8Array arena = info[1].As<Napi::Uint8Array>();
	uint32_t slot = info[2].As<Napi::Number>().Uint32Value();
	uint32_t max = info[3].As<Napi::Number>().Uint32Value();
	Napi::Int32Array desc = info[5].As<Napi::Int32Array>();
	if (slot == 0 || static_cast<size_t>(slot) * max > arena.ByteLength() || static_cast<size_t>(max) * 4 > desc.ElementLength())
		return Napi::Number::New(info.Env(), -EINVAL);
	std::vector<mmsghdr> msgs(max);
	std::vector<iovec> iovs(max);
	std::vector<sockaddr_storage> names(max);
	for (uint32_t i = 0; i < max; i++) {
		iovs[i] = { arena.Data() + static_cast<size_t>(i) * slot, slot };
		msgs[i] = {};
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &names[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
	}
	int n = ff_recvmmsg(OwnFd(info, 0), msgs.data(), max, Int(info, 4), nullptr);
	if (n < 0)
		return Napi::Number::New(info.Env(), -errno);
	Napi::Array texts;
	for (int i = 0; i < n; i++) {
		const sockaddr_storage &ss = names[i];
		desc[i * 4] = static_cast<int32_t>(msgs[i].msg_len);
		desc[i * 4 + 1] = ss.ss_family == AF_INET6 ? 0 : static_cast<int32_t>(ntohl(reinterpret_cast<const sockaddr_in *>(&ss)->sin_addr.s_addr));
		desc[i * 4 + 2] = PortOf(ss);
		desc[i * 4 + 3] = msgs[i].msg_hdr.msg_flags;
		if (ss.ss_family == AF_INET6) {
			if (texts.IsEmpty())
				texts = Napi::Array::New(info.Env(), n);
			texts.Set(static_cast<uint32_t>(i), AddrText(ss));
		}
	}
	if (texts.IsEmpty())
		return Napi::Number::New(info.Env(), n);
	Napi::Array out = Napi::Array::New(info.Env(), 2);
	out.Set(0u, Napi::Number::New(info.Env(), n));
	out.Set(1u, texts);
	return out;
}

Napi::Value Getsockname(const Napi::CallbackInfo &info)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	int rc = ff_getsockname(OwnFd(info, 0), reinterpret_cast<sockaddr *>(&ss), &len);
	return AddrResult(info.Env(), rc, ss);
}

Napi::Value Getpeername(const Napi::CallbackInfo &info)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	int rc = ff_getpeername(OwnFd(info, 0), reinterpret_cast<sockaddr *>(&ss), &len);
	return AddrResult(info.Env(), rc, ss);
}

/** setsockopt(fd, level, name, value: number | Uint8Array): numbers are passed as an int. */
Napi::Value Setsockopt(const Napi::CallbackInfo &info)
{
	if (info[3].IsNumber()) {
		int v = Int(info, 3);
		return Result(info.Env(), ff_setsockopt(OwnFd(info, 0), Int(info, 1), Int(info, 2), &v, sizeof(v)));
	}
	Napi::Uint8Array b = info[3].As<Napi::Uint8Array>();
	return Result(info.Env(), ff_setsockopt(OwnFd(info, 0), Int(info, 1), Int(info, 2), b.Data(), static_cast<socklen_t>(b.ByteLength())));
}

/** getsockopt(fd, level, name) → int value or -errno; IP_MULTICAST_IF → dotted quad. */
Napi::Value Getsockopt(const Napi::CallbackInfo &info)
{
	int level = Int(info, 1), name = Int(info, 2);
	if (level == IPPROTO_IP && name == IP_MULTICAST_IF) {
		in_addr a{};
		socklen_t len = sizeof(a);
		if (ff_getsockopt(OwnFd(info, 0), level, name, &a, &len) < 0)
			return Napi::Number::New(info.Env(), -errno);
		char buf[INET_ADDRSTRLEN];
		return Napi::String::New(info.Env(), inet_ntop(AF_INET, &a, buf, sizeof(buf)));
	}
	int v = 0;
	socklen_t len = sizeof(v);
	if (ff_getsockopt(OwnFd(info, 0), level, name, &v, &len) < 0)
		return Napi::Number::New(info.Env(), -errno);
	Napi::Array out = Napi::Array::New(info.Env(), 1);
	out.Set(0u, Napi::Number::New(info.Env(), v));
	return out;
}

/** ioctl(fd, request, value) → [value after the call] or -errno. */
Napi::Value Ioctl(const Napi::CallbackInfo &info)
{
	int v = Int(info, 2);
	if (ff_ioctl(OwnFd(info, 0), static_cast<unsigned long>(info[1].As<Napi::Number>().Uint32Value()), &v) < 0)
		return Napi::Number::New(info.Env(), -errno);
	Napi::Array out = Napi::Array::New(info.Env(), 1);
	out.Set(0u, Napi::Number::New(info.Env(), v));
	return out;
}

Napi::Value Fcntl(const Napi::CallbackInfo &info)
{
	return Result(info.Env(), ff_fcntl(OwnFd(info, 0), Int(info, 1), static_cast<long>(Int(info, 2))));
}

/** A sockaddr_in for an IPv4 literal argument (the JS side checked it), or false for null. */
static bool RouteSockaddr(const Napi::Value &v, sockaddr_in *out)
{
	if (!v.IsString())
		return false;
	*out = sockaddr_in{};
	out->sin_family = AF_INET;
	inet_pton(AF_INET, v.As<Napi::String>().Utf8Value().c_str(), &out->sin_addr);
	return true;
}

/** routeCtl(req, flag, dst, gw | null, netmask | null) → 0 or -errno. */
Napi::Value RouteCtl(const Napi::CallbackInfo &info)
{
	sockaddr_in dst, gw, mask;
	bool has_dst = RouteSockaddr(info[2], &dst), has_gw = RouteSockaddr(info[3], &gw), has_mask = RouteSockaddr(info[4], &mask);
	return Result(info.Env(), ff_route_ctl(static_cast<FF_ROUTE_CTL>(Int(info, 0)), static_cast<FF_ROUTE_FLAG>(Int(info, 1)),
					       has_dst ? reinterpret_cast<linux_sockaddr *>(&dst) : nullptr,
					       has_gw ? reinterpret_cast<linux_sockaddr *>(&gw) : nullptr,
					       has_mask ? reinterpret_cast<linux_sockaddr *>(&mask) : nullptr));
}

Napi::Value EpollCreate(const Napi::CallbackInfo &info) { return Result(info.Env(), ff_epoll_create(Int(info, 0))); }

/** epoll_ctl(epfd, op, fd, events, data: number) */
Napi::Value EpollCtl(const Napi::CallbackInfo &info)
{
	epoll_event ev{};
	ev.events = info[3].As<Napi::Number>().Uint32Value();
	ev.data.u64 = static_cast<uint64_t>(info[4].As<Napi::Number>().Int64Value());
	return Result(info.Env(), ff_epoll_ctl(Fd(info, 0), Int(info, 1), OwnFd(info, 2), info[3].IsNull() ? nullptr : &ev));
}

/** epoll_wait(epfd, out: Float64Array (pairs of events, data), maxevents, timeout) → count or -errno. */
Napi::Value EpollWait(const Napi::CallbackInfo &info)
{
	Napi::Float64Array out = info[1].As<Napi::Float64Array>();
	int max = Int(info, 2);
	if (max > 0 && static_cast<size_t>(max) * 2 > out.ElementLength())
		return Napi::Number::New(info.Env(), -EINVAL);
	std::vector<epoll_event> evs(max > 0 ? max : 1);
	int n = ff_epoll_wait(Fd(info, 0), max > 0 ? evs.data() : nullptr, max, Int(info, 3));
	if (n < 0)
		return Napi::Number::New(info.Env(), -errno);
	for (int i = 0; i < n; i++) {
		out[i * 2] = evs[i].events;
		out[i * 2 + 1] = static_cast<double>(evs[i].data.u64);
	}
	return Napi::Number::New(info.Env(), n);
}

/** dgramReady(ids: Uint32Array) → how many ids were written, or -errno. */
Napi::Value DgramReady(const Napi::CallbackInfo &info)
{
	Napi::Uint32Array ids = info[0].As<Napi::Uint32Array>();
	return Napi::Number::New(info.Env(), ff_dgram_ready(ids.Data(), static_cast<unsigned>(ids.ElementLength())));
}

/**
 * dgramRecv(fd, into: Uint8Array, max, desc: Uint32Array, info?: Uint32Array) → datagrams copied
 * (desc[i*4..] = offset within `into`, length, address as a host-order integer, port), or -errno;
 * info (6 words per datagram, struct ff_dgram_info) gets where each arrived.
 */
Napi::Value DgramRecv(const Napi::CallbackInfo &info)
{
	Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
	Napi::Uint32Array desc = info[3].As<Napi::Uint32Array>();
	unsigned max = info[2].As<Napi::Number>().Uint32Value();
	if (static_cast<size_t>(max) * 4 > desc.ElementLength())
		return Napi::Number::New(info.Env(), -EINVAL);
	ff_dgram_info *where = nullptr;
	if (info.Length() > 4 && info[4].IsTypedArray()) {
		Napi::Uint32Array words = info[4].As<Napi::Uint32Array>();
		if (static_cast<size_t>(max) * 6 > words.ElementLength())
			return Napi::Number::New(info.Env(), -EINVAL);
		where = reinterpret_cast<ff_dgram_info *>(words.Data());
	}
	return Napi::Number::New(info.Env(), ff_dgram_recv_packed_info(OwnFd(info, 0), buf.Data(), buf.ByteLength(), max,
								       reinterpret_cast<ff_dgram_desc *>(desc.Data()), where));
}

/** dgramSendQueue(fd) → [bytes, count] or -errno. */
Napi::Value DgramSendQueue(const Napi::CallbackInfo &info)
{
	uint32_t bytes = 0, count = 0;
	int rc = ff_dgram_send_queue(OwnFd(info, 0), &bytes, &count);
	if (rc < 0)
		return Napi::Number::New(info.Env(), rc);
	Napi::Array out = Napi::Array::New(info.Env(), 2);
	out.Set(0u, Napi::Number::New(info.Env(), bytes));
	out.Set(1u, Napi::Number::New(info.Env(), count));
	return out;
}

/**
 * localhostHeld(dst, port, sport) → whether a stack socket would take a datagram to the loopback
 * address dst (a host-order IPv4 number, or 16 bytes of IPv6) and port from local port sport;
 * false when no stack runs. ffnet/dgram's `[dpdk] localhost = both` asks once per such datagram.
 */
Napi::Value LocalhostHeld(const Napi::CallbackInfo &info)
{
	struct ffs_stack *st = ffs_stack_current();
	uint8_t dst[16] = { 0 };
	if (info[0].IsNumber()) {
		uint32_t v4 = info[0].As<Napi::Number>().Uint32Value();
		dst[10] = dst[11] = 0xff;
		dst[12] = static_cast<uint8_t>(v4 >> 24);
		dst[13] = static_cast<uint8_t>(v4 >> 16);
		dst[14] = static_cast<uint8_t>(v4 >> 8);
		dst[15] = static_cast<uint8_t>(v4);
	} else if (info[0].IsTypedArray() && info[0].As<Napi::Uint8Array>().ByteLength() == 16) {
		std::memcpy(dst, info[0].As<Napi::Uint8Array>().Data(), 16);
	} else {
		return Napi::Boolean::New(info.Env(), false);
	}
	uint16_t port = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
	uint16_t sport = static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value());
	return Napi::Boolean::New(info.Env(), st && ffs_stack_loopback_held(st, dst, port, sport));
}

/** The application-side counters localhostCount(which, n) adds to, in LOCALHOST_COUNTERS' order. */
const ffs_counter_index LOCALHOST_COUNTERS[] = { FFS_CTR_localhost_to_kernel, FFS_CTR_localhost_from_kernel,
						 FFS_CTR_localhost_send_errors, FFS_CTR_localhost_port_elsewhere };

/** localhostCount(which, n): adds n to localhost counter `which` (0 to_kernel, 1 from_kernel,
 *  2 send_errors, 3 port_elsewhere); a no-op without a stack or for another index. */
Napi::Value LocalhostCount(const Napi::CallbackInfo &info)
{
	struct ffs_stack *st = ffs_stack_current();
	uint32_t which = info[0].As<Napi::Number>().Uint32Value();
	double n = info[1].As<Napi::Number>().DoubleValue();
	if (st && which < sizeof(LOCALHOST_COUNTERS) / sizeof(LOCALHOST_COUNTERS[0]) && n > 0)
		ffs_stack_count_app(st, LOCALHOST_COUNTERS[which], static_cast<uint64_t>(n));
	return info.Env().Undefined();
}

Napi::Object Constants(Napi::Env env)
{
	Napi::Object c = Napi::Object::New(env);
#define C(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
	C(AF_INET); C(AF_INET6); C(AF_UNSPEC); C(SOCK_DGRAM); C(SOCK_STREAM); C(SOCK_NONBLOCK); C(SOCK_CLOEXEC);
	C(IPPROTO_UDP); C(IPPROTO_IP); C(SOL_SOCKET);
	C(SO_REUSEADDR); C(SO_REUSEPORT); C(SO_BROADCAST); C(SO_RCVBUF); C(SO_SNDBUF); C(SO_ERROR); C(SO_TYPE);
	C(SO_DOMAIN); C(SO_PROTOCOL);
	C(IP_TTL); C(IP_TOS); C(IP_MULTICAST_TTL); C(IP_MULTICAST_LOOP); C(IP_MULTICAST_IF); C(IP_MULTICAST_ALL); C(IP_PKTINFO);
	C(IP_ADD_MEMBERSHIP); C(IP_DROP_MEMBERSHIP); C(IP_ADD_SOURCE_MEMBERSHIP); C(IP_DROP_SOURCE_MEMBERSHIP);
	C(IPPROTO_IPV6); C(IPV6_V6ONLY); C(IPV6_UNICAST_HOPS); C(IPV6_MULTICAST_HOPS); C(IPV6_MULTICAST_LOOP);
	C(IPV6_MULTICAST_IF); C(IPV6_TCLASS); C(IPV6_JOIN_GROUP); C(IPV6_LEAVE_GROUP); C(IPV6_RECVPKTINFO); C(IPV6_PKTINFO); C(MCAST_JOIN_SOURCE_GROUP);
	C(MCAST_LEAVE_SOURCE_GROUP);
	C(MSG_DONTWAIT); C(MSG_PEEK); C(MSG_TRUNC); C(MSG_WAITALL);
	C(FIONBIO); C(FIONREAD); C(F_GETFL); C(F_SETFL); C(F_GETFD); C(F_SETFD); C(O_NONBLOCK); C(FD_CLOEXEC);
	C(FF_ROUTE_ADD); C(FF_ROUTE_DEL); C(FF_ROUTE_CHANGE); C(FF_RTF_HOST); C(FF_RTF_GATEWAY);
	C(EPOLLIN); C(EPOLLOUT); C(EPOLLERR); C(EPOLLHUP); C(EPOLLET); C(EPOLLONESHOT); C(EPOLLRDNORM); C(EPOLLWRNORM);
	C(EPOLL_CTL_ADD); C(EPOLL_CTL_MOD); C(EPOLL_CTL_DEL); C(EPOLL_CLOEXEC);
#undef C
	return c;
}

}  // namespace

/** The zero-copy receiver class (native/zc.cc). */
void RegisterZc(Napi::Env env, Napi::Object posix);

/** Adds the ff_* bindings to the addon's exports. */
void RegisterPosix(Napi::Env env, Napi::Object exports)
{
	Napi::Object p = Napi::Object::New(env);
	p.Set("constants", Constants(env));
	p.Set("socket", Napi::Function::New(env, Socket));
	p.Set("bind", Napi::Function::New(env, Bind));
	p.Set("connect", Napi::Function::New(env, Connect));
	p.Set("close", Napi::Function::New(env, Close));
	p.Set("sendto", Napi::Function::New(env, Sendto));
	p.Set("recvfrom", Napi::Function::New(env, Recvfrom));
	p.Set("sendmmsg", Napi::Function::New(env, Sendmmsg));
	p.Set("kickTx", Napi::Function::New(env, KickTx));
	p.Set("recvmmsg", Napi::Function::New(env, Recvmmsg));
	p.Set("getsockname", Napi::Function::New(env, Getsockname));
	p.Set("getpeername", Napi::Function::New(env, Getpeername));
	p.Set("setsockopt", Napi::Function::New(env, Setsockopt));
	p.Set("getsockopt", Napi::Function::New(env, Getsockopt));
	p.Set("ioctl", Napi::Function::New(env, Ioctl));
	p.Set("fcntl", Napi::Function::New(env, Fcntl));
	p.Set("routeCtl", Napi::Function::New(env, RouteCtl));
	p.Set("epollCreate", Napi::Function::New(env, EpollCreate));
	p.Set("epollCtl", Napi::Function::New(env, EpollCtl));
	p.Set("epollWait", Napi::Function::New(env, EpollWait));
	p.Set("dgramReady", Napi::Function::New(env, DgramReady));
	p.Set("dgramRecv", Napi::Function::New(env, DgramRecv));
	p.Set("dgramSendQueue", Napi::Function::New(env, DgramSendQueue));
	p.Set("localhostHeld", Napi::Function::New(env, LocalhostHeld));
	p.Set("localhostCount", Napi::Function::New(env, LocalhostCount));
	RegisterZc(env, p);
	exports.Set("posix", p);
}
