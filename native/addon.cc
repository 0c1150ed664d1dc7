/*
 * The N-API addon: JS ↔ stack/ glue, nothing more.
 *
 * Owns: converting a validated JS config into struct ffs_conf, EAL initialisation (once per
 * process), the Stack wrapper object, and the libuv handles that bring the stack's events to the
 * JS thread (an uv_poll on the stack's eventfd) and, in inline mode, turn the stack loop on the JS
 * thread (uv_idle while traffic flows and for 500 µs after; then an uv_poll on the stack's idle fd,
 * or a 1 ms uv_timer for devices without RX interrupts), and the uv_poll on the application
 * context's eventfd (ff_wake_fd) through which the stack wakes ffnet/dgram and ff_epoll_wait_async
 * (in inline mode, a wake-up this thread's own turns deliver runs the callback after the turns,
 * with no eventfd: ffs_app_turn_begin).
 * That eventfd closes with the stack, so the stack owns its watch and stops it first. The idle
 * policy is the stack's (stack/lcore/driver.h), shared with posix ff_run. Its typed surface is
 * declared in native/index.ts.
 *
 * Threads: the process has one stack. The thread that starts it gets the first handle; a worker
 * thread attaches (attachStack) and gets its own handle, its own application context and, inline,
 * its own lcore, which its libuv loop turns. Closing a handle detaches its thread (its sockets close,
 * its lcore is given back); the last handle to close, in any thread, stops the stack. What the
 * handles share across threads is the process-wide Shared state below; per-environment state lives
 * in the Addon instance, and an environment cleanup hook closes the handles of a thread that ends
 * (a worker's exit) or forgot to.
 */
#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

extern "C" {
/* posix/ff_internal.h: the ff_* API's per-thread contexts (that header is C only). */
void ff_app_forget(void);
struct ffs_app *ff_app(struct ffs_stack *st);
/* stack/sock/sock.h (C11 atomics, C only): inline wake-ups of this thread's application. */
void ffs_app_turn_begin(struct ffs_app *app);
bool ffs_app_turn_end(struct ffs_app *app);
void ffs_app_inline_unread(struct ffs_app *app);
void ff_thread_detach(void);
int ff_thread_home(int index);
#include "posix/ff_api.h"
#include "stack/eal_log.h"
#include "stack/lcore/driver.h"
#include "stack/stack.h"
#include "stack/wire/ipv4.h"
}

class StackWrap;

/** The ff_* bindings (native/posix.cc). */
void RegisterPosix(Napi::Env env, Napi::Object exports);

namespace {

/** Inline: turns taken per libuv iteration while they keep finding work (bigger batches per wake-up). */
constexpr unsigned kTurnsPerIteration = 16;
/**
 * Inline, while traffic flows: how long an iteration keeps turning when its turns find nothing, before
 * it hands the thread back to libuv. A libuv round (its phases and an epoll_wait) takes a few times
 * longer than a turn, so the next datagram is seen sooner; other handles wait at most this longer.
 */
constexpr uint64_t kEmptySpinNs = 10000;
constexpr unsigned kEventBatch = 64;

/** What every thread's handles share: the process has one stack. */
struct Shared {
	std::mutex mu;
	/** Open handles (starting and attached, every thread); the last to close stops the stack. */
	unsigned handles = 0;
	/** The running stack's config as JSON (startStack's config.configJson), for threads that attach. */
	std::string config_json;
	/** Set when the handle that turned the unclaimed lcores closed while others stay: the next
	 *  attached handle to turn takes that over. */
	std::atomic<bool> unclaimed_orphaned{ false };
};

Shared &shared()
{
	static Shared s;
	return s;
}

/** An Error with a `code` property, as Node's own errors carry. */
Napi::Error CodedError(Napi::Env env, const std::string &msg, const char *code)
{
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("code", code);
	return e;
}

/** Why attaching the calling thread to the running stack failed (errno from ff_set_lcore / ff_thread_home). */
Napi::Error AttachError(Napi::Env env)
{
	if (errno == ENOTSUP)
		return Napi::Error::New(env, "attaching to the stack failed: a multi-process stack is used only by the thread that started it "
					     "(DPDK registers no other thread while processes share its memory)");
	return Napi::Error::New(env, std::string("attaching to the stack failed: ") + strerror(errno));
}

/** DPDK log lines attached to a start error. */
constexpr unsigned kStartLogLines = 16;

/**
 * A failed start: `msg`, then the lines DPDK logged since `mark` (the last kStartLogLines), which
 * are also the error's `dpdkLog` array.
 */
Napi::Error StartError(Napi::Env env, const char *msg, uint64_t mark)
{
	std::vector<char> buf(kStartLogLines * 512 + 1);
	ffs_log_since(mark, kStartLogLines, buf.data(), buf.size());
	std::string text = msg;
	Napi::Array lines = Napi::Array::New(env);
	const char *p = buf.data();
	while (*p) {
		const char *end = strchr(p, '\n');
		std::string line(p, end ? static_cast<size_t>(end - p) : strlen(p));
		lines.Set(lines.Length(), line);
		text += (lines.Length() == 1 ? "\nDPDK log:\n  " : "\n  ") + line;
		p = end ? end + 1 : p + line.size();
	}
	Napi::Error e = Napi::Error::New(env, text);
	e.Set("dpdkLog", lines);
	return e;
}

std::string FormatIpv4(uint32_t a)
{
	char buf[16];
	return ipv4_format(a, buf);
}

std::string FormatMac(const eth_addr &m)
{
	char buf[18];
	return eth_addr_format(&m, buf);
}

uint32_t ParseIpv4(Napi::Env env, const Napi::Value &v, const char *what)
{
	uint32_t a = 0;
	if (!v.IsString() || ipv4_parse(v.As<Napi::String>().Utf8Value().c_str(), &a) != 0)
		throw Napi::TypeError::New(env, std::string(what) + " must be an IPv4 address");
	return a;
}

uint32_t GetU32(Napi::Object o, const char *key)
{
	Napi::Value v = o.Get(key);
	if (!v.IsNumber())
		throw Napi::TypeError::New(o.Env(), std::string("config.") + key + " must be a number");
	return v.As<Napi::Number>().Uint32Value();
}

/** A port's exception path (NativePortConfig exception*), validated by config/ already. */
void ReadPortException(Napi::Env env, Napi::Object p, struct ffs_port_conf &pc)
{
	Napi::Value kind = p.Get("exception");
	std::string k = kind.IsString() ? kind.As<Napi::String>().Utf8Value() : "none";
	pc.exception = k == "tap" ? FFS_EXC_TAP : k == "virtio-user" ? FFS_EXC_VIRTIO_USER : FFS_EXC_NONE;
	if (pc.exception == FFS_EXC_NONE)
		return;
	std::string iface = p.Get("exceptionIface").As<Napi::String>().Utf8Value();
	if (iface.empty() || iface.size() >= sizeof(pc.exception_iface))
		throw Napi::RangeError::New(env, "exceptionIface must be 1..15 characters");
	snprintf(pc.exception_iface, sizeof(pc.exception_iface), "%s", iface.c_str());
	const char *keys[2] = { "exceptionTcpPorts", "exceptionUdpPorts" };
	struct ffs_port_ranges *ranges[2] = { &pc.exc_tcp, &pc.exc_udp };
	for (unsigned r = 0; r < 2; r++) {
		Napi::Value v = p.Get(keys[r]);
		Napi::Array a = v.IsArray() ? v.As<Napi::Array>() : Napi::Array::New(env);
		if (a.Length() > FFS_MAX_EXC_PORT_RANGES)
			throw Napi::RangeError::New(env, std::string(keys[r]) + ": at most " + std::to_string(FFS_MAX_EXC_PORT_RANGES) + " ranges");
		ranges[r]->n = a.Length();
		for (unsigned i = 0; i < a.Length(); i++) {
			Napi::Array pair = a.Get(i).As<Napi::Array>();
			ranges[r]->r[i].lo = static_cast<uint16_t>(pair.Get(0u).As<Napi::Number>().Uint32Value());
			ranges[r]->r[i].hi = static_cast<uint16_t>(pair.Get(1u).As<Napi::Number>().Uint32Value());
		}
	}
	Napi::Value unbound = p.Get("exceptionUdpUnbound");
	pc.exc_udp_unbound = !unbound.IsBoolean() || unbound.As<Napi::Boolean>().Value();
	Napi::Value queue = p.Get("exceptionQueue");
	pc.exc_queue = queue.IsNumber() ? queue.As<Napi::Number>().Uint32Value() : 1024;
}

/** libuv handles of one running stack; freed once every handle has closed. */
struct Driver {
	uv_poll_t events;
	uv_idle_t idle;
	uv_timer_t timer;
	uv_poll_t wake;     /**< inline: the stack's idle fd (RX interrupts, control messages) */
	bool wake_open = false;
	uv_poll_t app_wake; /**< the application context's eventfd (ff_wake_fd), once watched */
	bool app_wake_open = false;
	/** This thread's application context while a wake-up callback is set: this thread's turns wake
	 *  it inline (ffs_app_turn_begin) and the callback runs after them, with no eventfd. */
	ffs_app *app = nullptr;
	bool asleep = false;
	unsigned open_handles = 0;
	/** The idle policy's state (stack/lcore/driver.h). */
	ffs_driver policy{};
	/** The lcore whose idle fd this driver sleeps on. */
	unsigned idle_lcore = 0;
	StackWrap *owner = nullptr;
};

}  // namespace

class StackWrap : public Napi::ObjectWrap<StackWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "NativeStack",
				   {
					   InstanceMethod<&StackWrap::Counters>("counters"),
					   InstanceMethod<&StackWrap::Ports>("ports"),
					   InstanceMethod<&StackWrap::MempoolInUse>("mempoolInUse"),
					   InstanceMethod<&StackWrap::MempoolSize>("mempoolSize"),
					   InstanceMethod<&StackWrap::ProcQueue>("procQueue"),
					   InstanceMethod<&StackWrap::Neighbours>("neighbours"),
					   InstanceMethod<&StackWrap::AddNeighbour>("addNeighbour"),
					   InstanceMethod<&StackWrap::DeleteNeighbour>("deleteNeighbour"),
					   InstanceMethod<&StackWrap::Routes>("routes"),
					   InstanceMethod<&StackWrap::AddRoute>("addRoute"),
					   InstanceMethod<&StackWrap::DeleteRoute>("deleteRoute"),
					   InstanceMethod<&StackWrap::Ping>("ping"),
					   InstanceMethod<&StackWrap::SysctlGet>("sysctlGet"),
					   InstanceMethod<&StackWrap::SysctlSet>("sysctlSet"),
					   InstanceMethod<&StackWrap::Ref>("ref"),
					   InstanceMethod<&StackWrap::Unref>("unref"),
					   InstanceMethod<&StackWrap::WatchWake>("watchWake"),
					   InstanceMethod<&StackWrap::Close>("close"),
					   InstanceMethod<&StackWrap::Lcore>("lcore"),
				   });
	}

	StackWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<StackWrap>(info) {}
	~StackWrap() override { Stop(); }

	/** Stacks of this environment not yet stopped, for the environment's cleanup hook. */
	std::set<StackWrap *> *registry = nullptr;

	/**
	 * Hooks this thread's handle on the running stack into the thread's event loop. `starter`: the
	 * thread that started it (it watches the stack's events and turns the unclaimed lcores); `lcore`:
	 * the inline lcore this thread claimed, or -1.
	 */
	void Attach(Napi::Env env, ffs_stack *st, Napi::Function on_ping, bool starter, int lcore)
	{
		st_ = st;
		starter_ = starter;
		turns_unclaimed_ = starter;
		lcore_ = lcore;
		on_ping_ = Napi::Persistent(on_ping);
		uv_loop_t *loop = nullptr;
		napi_get_uv_event_loop(env, &loop);
		driver_ = new Driver();
		driver_->owner = this;
		if (starter) {
			uv_poll_init(loop, &driver_->events, ffs_stack_event_fd(st));
			driver_->events.data = driver_;
			driver_->open_handles++;
			uv_poll_start(&driver_->events, UV_READABLE, [](uv_poll_t *h, int, int) {
				static_cast<Driver *>(h->data)->owner->DrainEvents();
			});
		}
		if (Turns()) {
			uv_idle_init(loop, &driver_->idle);
			uv_timer_init(loop, &driver_->timer);
			driver_->idle.data = driver_->timer.data = driver_;
			driver_->open_handles += 2;
			driver_->idle_lcore = ffs_stack_thread_idle_lcore(st);
			int fd = ffs_stack_idle_fd_lcore(st, driver_->idle_lcore);
			if (fd >= 0) {
				uv_poll_init(loop, &driver_->wake, fd);
				driver_->wake.data = driver_;
				driver_->wake_open = true;
				driver_->open_handles++;
			}
			StartBusy();
		}
	}

	/**
	 * Closes this handle: stops its libuv handles, then detaches the thread (its sockets close, its
	 * lcore is given back, its context is freed), or stops the stack when this was the last handle.
	 * Safe to call twice.
	 */
	void Stop()
	{
		if (!st_)
			return;
		Driver *d = driver_;
		driver_ = nullptr;
		if (d) {
			d->owner = nullptr;
			auto on_close = [](uv_handle_t *h) {
				Driver *dd = static_cast<Driver *>(h->data);
				if (--dd->open_handles == 0)
					delete dd;
			};
			if (starter_) {
				uv_poll_stop(&d->events);
				uv_close(reinterpret_cast<uv_handle_t *>(&d->events), on_close);
			}
			/* Before the context's eventfd closes: libuv aborts on a watched fd that was closed. */
			if (d->app_wake_open) {
				uv_poll_stop(&d->app_wake);
				uv_close(reinterpret_cast<uv_handle_t *>(&d->app_wake), on_close);
			}
			if (Turns()) {
				uv_idle_stop(&d->idle);
				uv_timer_stop(&d->timer);
				uv_close(reinterpret_cast<uv_handle_t *>(&d->idle), on_close);
				uv_close(reinterpret_cast<uv_handle_t *>(&d->timer), on_close);
				if (d->wake_open) {
					if (d->asleep)
						ffs_stack_sleep_end_lcore(st_, d->idle_lcore);
					uv_poll_stop(&d->wake);
					uv_close(reinterpret_cast<uv_handle_t *>(&d->wake), on_close);
				}
			}
			if (d->open_handles == 0)
				delete d;
		}
		{
			Shared &g = shared();
			std::lock_guard<std::mutex> lock(g.mu);
			if (--g.handles == 0) {
				ff_app_forget(); /* every thread's ff_* context and the epoll sets die with the stack */
				ffs_stack_stop(st_);
				g.config_json.clear();
				g.unclaimed_orphaned = false;
			} else {
				ff_thread_detach();
				if (turns_unclaimed_)
					g.unclaimed_orphaned = true;
			}
		}
		st_ = nullptr;
		on_ping_.Reset();
		on_wake_.Reset();
		wake_ctx_.reset();
		if (registry)
			registry->erase(this);
	}

	/** Whether this handle is open. */
	bool IsOpen() const { return st_ != nullptr; }

private:
	ffs_stack *Live(const Napi::CallbackInfo &info)
	{
		if (!st_)
			throw Napi::Error::New(info.Env(), "the stack is closed");
		return st_;
	}

	/** Whether this handle's libuv loop turns lcores: inline, and it started the stack or claimed one. */
	bool Turns() const { return st_ && ffs_stack_is_inline(st_) && (starter_ || lcore_ >= 0); }

	/**
	 * One turn of what this thread turns: its claimed lcore, and every unclaimed one on the handle that
	 * started the stack (or, once that closed, on the attached handle that took over).
	 */
	unsigned Poll()
	{
		if (!turns_unclaimed_ && shared().unclaimed_orphaned.load(std::memory_order_relaxed) &&
		    shared().unclaimed_orphaned.exchange(false))
			turns_unclaimed_ = true;
		if (turns_unclaimed_)
			return ffs_stack_poll(st_);
		return lcore_ >= 0 ? ffs_stack_poll_lcore(st_, static_cast<unsigned>(lcore_)) : 0;
	}

	/**
	 * Whether this driver may sleep on its lcore's idle fd: it watches one, and no other thread has
	 * claimed that lcore since (its owner arms and disarms that lcore's RX interrupts): else it naps.
	 */
	bool IdleFdUsable() const { return driver_->wake_open && ffs_stack_thread_idle_lcore(st_) == driver_->idle_lcore; }

	/** Inline mode: turn the loop on every libuv iteration (traffic is flowing). */
	void StartBusy()
	{
		ffs_driver_busy(&driver_->policy, uv_hrtime());
		Spin();
	}

	void Spin()
	{
		uv_idle_start(&driver_->idle, [](uv_idle_t *h) { static_cast<Driver *>(h->data)->owner->InlineTurn(); });
	}

	/** Inline mode: stop turning until a RX queue or a control message has work, or a tick is due. */
	void StartSleep(const ffs_drive_step &step)
	{
		Driver *d = driver_;
		uv_idle_stop(&d->idle);
		auto on_timer = [](uv_timer_t *h) { static_cast<Driver *>(h->data)->owner->Awake(); };
		if (step.action == FFS_DRIVE_SLEEP) {
			if (!ffs_stack_sleep_begin_lcore(st_, d->idle_lcore)) {
				StartBusy();
				return;
			}
			d->asleep = true;
			uv_poll_start(&d->wake, UV_READABLE, [](uv_poll_t *h, int, int) { static_cast<Driver *>(h->data)->owner->Awake(); });
		} else {
			d->asleep = true;
		}
		uv_timer_start(&d->timer, on_timer, step.ms, 0);
	}

	/** Inline mode: leave the sleeping state (timer, idle fd, RX interrupts). */
	void EndSleep()
	{
		Driver *d = driver_;
		d->asleep = false;
		uv_timer_stop(&d->timer);
		if (d->wake_open) {
			uv_poll_stop(&d->wake);
			ffs_stack_sleep_end_lcore(st_, d->idle_lcore);
		}
	}

	/** Inline mode, asleep: something may have arrived; take one turn and decide again. */
	void Awake()
	{
		if (!driver_ || !st_ || !driver_->asleep)
			return;
		EndSleep();
		ffs_app *app = driver_->app;
		ffs_app_turn_begin(app);
		unsigned work = Poll();
		bool woke = ffs_app_turn_end(app);
		ffs_drive_step step = ffs_driver_step(&driver_->policy, work ? 1 : 0, uv_hrtime(), IdleFdUsable());
		if (step.action == FFS_DRIVE_SPIN)
			Spin();
		else
			StartSleep(step);
		if (woke)
			InlineWake(app);
	}

	/** Inline mode: back to busy polling at once (a control call just queued work). */
	void Wake()
	{
		if (!driver_ || !Turns())
			return;
		if (driver_->asleep) {
			EndSleep();
			StartBusy();
		} else {
			ffs_driver_step(&driver_->policy, 1, uv_hrtime(), IdleFdUsable());
		}
	}

	/** Inline mode, busy: turns of the stack loop while they find work; then what the idle policy says. */
	void InlineTurn()
	{
		/* A wake-up's callback may answer at once (a ping-pong over loopback): its datagram is
		 * turned in the same iteration, within the iteration's budget of turns, rather than after
		 * another round of libuv's poll phase (an epoll_wait per datagram). */
		for (unsigned budget = kTurnsPerIteration; st_ && driver_ && !driver_->asleep && budget > 0;) {
			ffs_app *app = driver_->app;
			ffs_app_turn_begin(app);
			auto poll = [](void *self) { return static_cast<StackWrap *>(self)->Poll(); };
			unsigned turns = ffs_driver_turns(&driver_->policy, budget, poll, this);
			if (turns == 0) {
				uint64_t until = uv_hrtime() + kEmptySpinNs;
				for (unsigned i = 1; turns == 0; i++) {
					if (i % 8 == 0 && uv_hrtime() >= until)
						break;
					turns = ffs_driver_turns(&driver_->policy, budget, poll, this);
				}
			}
			bool woke = ffs_app_turn_end(app);
			ffs_drive_step step = ffs_driver_step(&driver_->policy, turns, uv_hrtime(), IdleFdUsable());
			if (step.action != FFS_DRIVE_SPIN)
				StartSleep(step);
			/* The turns woke this thread's sockets inline: their wake-up runs now, as the eventfd's would. */
			if (!woke)
				return;
			bool backlogged = driver_->policy.backlogged;
			InlineWake(app);
			if (backlogged || turns >= budget)
				return;
			budget -= turns;
		}
	}

	/**
	 * watchWake(cb | null): calls cb on this thread whenever the stack signals the application
	 * context's sockets (ff_wake_fd readable), until close() or watchWake(null). A second call
	 * replaces cb. Never keeps the event loop alive: the sockets and waiters behind it decide that.
	 */
	Napi::Value WatchWake(const Napi::CallbackInfo &info)
	{
		Live(info);
		Napi::Env env = info.Env();
		Driver *d = driver_;
		if (info[0].IsNull()) {
			/* Nobody drains the fd now: a level-triggered poll of it would spin. */
			if (d->app_wake_open)
				uv_poll_stop(&d->app_wake);
			d->app = nullptr;
			on_wake_.Reset();
			return env.Undefined();
		}
		if (!info[0].IsFunction())
			throw Napi::TypeError::New(env, "watchWake(callback | null)");
		if (!d->app_wake_open) {
			int fd = ff_wake_fd();
			if (fd < 0)
				throw Napi::Error::New(env, std::string("ff_wake_fd: ") + strerror(errno));
			uv_loop_t *loop = nullptr;
			napi_get_uv_event_loop(env, &loop);
			int rc = uv_poll_init(loop, &d->app_wake, fd);
			if (rc < 0)
				throw Napi::Error::New(env, std::string("uv_poll_init(ff_wake_fd): ") + uv_strerror(rc));
			d->app_wake.data = d;
			d->app_wake_open = true;
			d->open_handles++;
			uv_unref(reinterpret_cast<uv_handle_t *>(&d->app_wake));
		}
		on_wake_ = Napi::Persistent(info[0].As<Napi::Function>());
		if (!wake_ctx_)
			wake_ctx_ = std::make_unique<Napi::AsyncContext>(env, "ffnet:wake");
		/* Inline wake-ups need this thread to run the callback after its turns: only a thread that turns. */
		d->app = Turns() ? ff_app(st_) : nullptr;
		uv_poll_start(&d->app_wake, UV_READABLE, [](uv_poll_t *h, int, int) {
			Driver *dd = static_cast<Driver *>(h->data);
			if (dd->owner)
				dd->owner->AppWake();
		});
		return env.Undefined();
	}

	/** Runs the wake-up callback for a wake-up this thread's turns handed over inline; one the
	 *  callback left unread goes to the eventfd, as if written by the lcore. */
	void InlineWake(ffs_app *app)
	{
		AppWake();
		if (st_)
			ffs_app_inline_unread(app);
	}

	void AppWake()
	{
		if (!st_ || on_wake_.IsEmpty())
			return;
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		/* napi_make_callback, not a plain call: what the listeners defer with process.nextTick and
		 * promises (a 'message' handler's send resolves its address on nextTick, as node:dgram's does)
		 * runs when the callback returns, as after a socket callback of Node's, not at some later
		 * callback of another kind. The C call rather than Napi::FunctionReference::MakeCallback: when
		 * a worker is terminated inside the callback there is no exception object to wrap, and
		 * wrapping one aborts the process. */
		napi_value result;
		if (napi_make_callback(env, *wake_ctx_, env.Global(), on_wake_.Value(), 0, nullptr, &result) == napi_ok)
			return;
		napi_value err;
		napi_valuetype type = napi_undefined;
		if (napi_get_and_clear_last_exception(env, &err) == napi_ok && napi_typeof(env, err, &type) == napi_ok &&
		    type != napi_undefined)
			napi_fatal_exception(env, err);
	}

	void DrainEvents()
	{
		if (!st_)
			return;
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		ffs_event evs[kEventBatch];
		unsigned n;
		while (st_ && (n = ffs_stack_events(st_, evs, kEventBatch)) > 0) {
			for (unsigned i = 0; i < n && st_; i++) {
				if (evs[i].type != FFS_EV_PING_REPLY)
					continue;
				double rtt = evs[i].rtt_ns == UINT32_MAX ? -1.0 : evs[i].rtt_ns / 1000.0;
				try {
					on_ping_.Call({ Napi::Number::New(env, evs[i].token), Napi::Number::New(env, rtt),
							Napi::Number::New(env, evs[i].ttl), Napi::Number::New(env, evs[i].bytes) });
				} catch (const Napi::Error &e) {
					napi_fatal_exception(env, e.Value());
					return;
				}
			}
		}
	}

	Napi::Value Counters(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		unsigned n = ffs_stack_lcore_count(st);
		Napi::Array out = Napi::Array::New(env, n);
		for (unsigned i = 0; i < n; i++) {
			ffs_counters c;
			unsigned lcore = ffs_stack_counters(st, i, &c);
			const uint64_t *vals = reinterpret_cast<const uint64_t *>(&c);
			Napi::Object values = Napi::Object::New(env);
			for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
				values.Set(ffs_counter_names[k], Napi::Number::New(env, static_cast<double>(vals[k])));
			Napi::Object entry = Napi::Object::New(env);
			entry.Set("lcore", lcore);
			entry.Set("values", values);
			out.Set(i, entry);
		}
		return out;
	}

	Napi::Value Ports(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		unsigned n = ffs_stack_port_count(st);
		Napi::Array out = Napi::Array::New(env, n);
		for (unsigned i = 0; i < n; i++) {
			ffs_port_info p;
			ffs_stack_port_info(st, i, &p);
			Napi::Object o = Napi::Object::New(env);
			o.Set("portId", p.port_id);
			o.Set("name", p.name);
			o.Set("driver", p.driver);
			o.Set("mac", FormatMac(p.mac));
			o.Set("addr", FormatIpv4(p.addr));
			o.Set("netmask", FormatIpv4(p.netmask));
			o.Set("broadcast", FormatIpv4(p.broadcast));
			o.Set("gateway", p.gateway ? FormatIpv4(p.gateway) : std::string());
			o.Set("mtu", p.mtu);
			o.Set("vlanId", p.vlan_id);
			o.Set("linkUp", p.link_up);
			o.Set("adminUp", p.admin_up);
			Napi::Array addrs = Napi::Array::New(env, p.n_vip);
			for (unsigned k = 0; k < p.n_vip; k++) {
				Napi::Object a = Napi::Object::New(env);
				a.Set("addr", FormatIpv4(p.vip[k].addr));
				a.Set("netmask", FormatIpv4(p.vip[k].netmask));
				a.Set("broadcast", FormatIpv4(p.vip[k].broadcast));
				addrs.Set(k, a);
			}
			o.Set("addrs", addrs);
			ffs_port_addr6 a6[FFS_MAX_ADDR6];
			unsigned n6 = ffs_stack_port_addr6(st, i, a6, FFS_MAX_ADDR6);
			Napi::Array addr6 = Napi::Array::New(env, n6);
			for (unsigned k = 0; k < n6; k++) {
				char text6[IP6_ADDRSTRLEN];
				Napi::Object a = Napi::Object::New(env);
				a.Set("addr", ip6_format(&a6[k].addr, text6));
				a.Set("prefixlen", a6[k].prefixlen);
				a.Set("state", a6[k].duplicated ? "duplicated" : a6[k].tentative ? "tentative" : "preferred");
				addr6.Set(k, a);
			}
			o.Set("addr6", addr6);
			Napi::Object off = Napi::Object::New(env);
			off.Set("rxIpv4Cksum", p.rx_ipv4_cksum);
			off.Set("rxL4Cksum", p.rx_l4_cksum);
			off.Set("txIpv4Cksum", p.tx_ipv4_cksum);
			off.Set("txUdpCksum", p.tx_udp_cksum);
			off.Set("rxVlanStrip", p.vlan_rx_offload);
			off.Set("txVlanInsert", p.vlan_tx_offload);
			o.Set("offloads", off);
			o.Set("rxQueues", p.rx_queues);
			o.Set("txQueues", p.tx_queues);
			o.Set("rxIntr", p.rx_intr);
			if (p.exception != FFS_EXC_NONE) {
				Napi::Object exc = Napi::Object::New(env);
				exc.Set("kind", p.exception == FFS_EXC_TAP ? "tap" : "virtio-user");
				exc.Set("iface", p.exception_iface);
				o.Set("exception", exc);
			}
			Napi::Object s = Napi::Object::New(env);
			s.Set("ipackets", static_cast<double>(p.ipackets));
			s.Set("opackets", static_cast<double>(p.opackets));
			s.Set("ibytes", static_cast<double>(p.ibytes));
			s.Set("obytes", static_cast<double>(p.obytes));
			s.Set("imissed", static_cast<double>(p.imissed));
			s.Set("ierrors", static_cast<double>(p.ierrors));
			s.Set("oerrors", static_cast<double>(p.oerrors));
			s.Set("rxNombuf", static_cast<double>(p.rx_nombuf));
			o.Set("stats", s);
			out.Set(i, o);
		}
		return out;
	}

	Napi::Value MempoolInUse(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), ffs_stack_mempool_in_use(Live(info))); }
	Napi::Value ProcQueue(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), ffs_stack_proc_queue(Live(info)));
	}

	Napi::Value MempoolSize(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), ffs_stack_mempool_size(Live(info))); }

	Napi::Value Neighbours(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		/* ARP's entries, then Neighbor Discovery's. */
		std::vector<ffs_neigh_info> entries(2048);
		int n4 = ffs_stack_neigh_dump(st, entries.data(), 1024);
		int n6 = n4 < 0 ? 0 : ffs_stack_neigh6_dump(st, entries.data() + n4, 1024);
		if (n4 < 0 || n6 < 0)
			throw Napi::Error::New(env, std::string("neighbour table dump failed: ") + strerror(n4 < 0 ? -n4 : -n6));
		int n = n4 + n6;
		static const char *const states[] = { "incomplete", "reachable", "failed", "permanent" };
		Napi::Array out = Napi::Array::New(env, n);
		for (int i = 0; i < n; i++) {
			const ffs_neigh_info &e = entries[i];
			Napi::Object o = Napi::Object::New(env);
			o.Set("portId", e.port_id);
			char text6[64];
			o.Set("addr", e.v6 ? std::string(ip6_format(&e.addr6, text6)) : FormatIpv4(e.addr));
			o.Set("mac", e.state == FFS_NEIGH_INCOMPLETE || e.state == FFS_NEIGH_FAILED ? std::string() : FormatMac(e.mac));
			o.Set("state", states[e.state]);
			o.Set("expiresIn", e.expires_in_s);
			o.Set("held", e.held);
			o.Set("heldBytes", e.held_bytes);
			out.Set(i, o);
		}
		return out;
	}

	/** Whether v is an IPv6 literal (parsed into *out): neighbour entries of either family. */
	static bool IsIpv6(const Napi::Value &v, ip6_addr *out)
	{
		return v.IsString() && ip6_parse(v.As<Napi::String>().Utf8Value().c_str(), out) == 0;
	}

	Napi::Value AddNeighbour(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		uint16_t port = static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value());
		ip6_addr a6;
		bool v6 = IsIpv6(info[1], &a6);
		uint32_t addr = v6 ? 0 : ParseIpv4(env, info[1], "addr");
		eth_addr mac;
		if (!info[2].IsString() || eth_addr_parse(info[2].As<Napi::String>().Utf8Value().c_str(), &mac) != 0)
			throw Napi::TypeError::New(env, "mac must be a MAC address like 02:00:00:00:00:01");
		int rc = v6 ? ffs_stack_neigh6_add(st, port, &a6, &mac) : ffs_stack_neigh_add(st, port, addr, &mac);
		if (rc == -ENOENT)
			throw Napi::Error::New(env, "no such port " + std::to_string(port));
		if (rc == -EINVAL)
			throw Napi::Error::New(env, v6 ? "address is not a neighbour on port " + std::to_string(port) +
								   "'s link (link-local or on one of its prefixes, unicast, not its own)"
						       : "address is not a neighbour on port " + std::to_string(port) + "'s subnet");
		if (rc < 0)
			throw Napi::Error::New(env, std::string("adding neighbour failed: ") + strerror(-rc));
		return env.Undefined();
	}

	Napi::Value DeleteNeighbour(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		uint16_t port = static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value());
		ip6_addr a6;
		int rc = IsIpv6(info[1], &a6) ? ffs_stack_neigh6_del(st, port, &a6) : ffs_stack_neigh_del(st, port, ParseIpv4(env, info[1], "addr"));
		if (rc == -ENOENT)
			throw Napi::Error::New(env, "no such port " + std::to_string(port));
		if (rc < 0)
			throw Napi::Error::New(env, std::string("deleting neighbour failed: ") + strerror(-rc));
		return Napi::Boolean::New(env, rc > 0);
	}

	/** The IPv4 routing table, lookup order (longest prefix, then lowest metric). */
	Napi::Value Routes(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		ffs_route_info r[FFS_MAX_ROUTES];
		int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
		Napi::Array out = Napi::Array::New(env, n);
		for (int i = 0; i < n; i++) {
			Napi::Object o = Napi::Object::New(env);
			o.Set("dest", FormatIpv4(r[i].dest) + "/" + std::to_string(r[i].prefixlen));
			o.Set("via", r[i].gateway ? Napi::Value(Napi::String::New(env, FormatIpv4(r[i].gateway))) : env.Null());
			o.Set("src", r[i].src ? Napi::Value(Napi::String::New(env, FormatIpv4(r[i].src))) : env.Null());
			o.Set("metric", static_cast<double>(r[i].metric));
			o.Set("portId", r[i].port_id);
			o.Set("kind", (r[i].flags & FFS_ROUTE_CONNECTED) ? "connected" : "static");
			out.Set(i, o);
		}
		return out;
	}

	/** addRoute(dest, prefixlen, via, src ('' = none), metric): 0 or a negative errno. */
	Napi::Value AddRoute(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		uint32_t dest = ParseIpv4(env, info[0], "dest");
		unsigned len = info[1].As<Napi::Number>().Uint32Value();
		uint32_t via = ParseIpv4(env, info[2], "via");
		uint32_t src = info[3].As<Napi::String>().Utf8Value().empty() ? 0 : ParseIpv4(env, info[3], "src");
		uint32_t metric = info[4].As<Napi::Number>().Uint32Value();
		return Napi::Number::New(env, ffs_stack_route_add_ex(st, dest, len, via, src, metric));
	}

	/** deleteRoute(dest, prefixlen, metric (-1 = the lowest)): 0 or a negative errno. */
	Napi::Value DeleteRoute(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		uint32_t dest = ParseIpv4(env, info[0], "dest");
		unsigned len = info[1].As<Napi::Number>().Uint32Value();
		double metric = info[2].As<Napi::Number>().DoubleValue();
		return Napi::Number::New(env, ffs_stack_route_del_ex(st, dest, len, metric < 0 ? FFS_ROUTE_ANY_METRIC : static_cast<int64_t>(metric)));
	}

	/** ping(dst, token, payloadBytes): sends one echo request; returns 0 or a negative errno. */
	Napi::Value Ping(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		Napi::Env env = info.Env();
		uint32_t dst = ParseIpv4(env, info[0], "dst");
		uint16_t token = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
		uint16_t payload = static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value());
		int rc = ffs_stack_ping(st, dst, token, payload);
		Wake();
		return Napi::Number::New(env, rc);
	}

	Napi::Value SysctlGet(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		int id = ffs_sysctl_find(info[0].As<Napi::String>().Utf8Value().c_str());
		if (id < 0)
			throw Napi::Error::New(info.Env(), "unknown sysctl " + info[0].As<Napi::String>().Utf8Value());
		return Napi::Number::New(info.Env(), static_cast<double>(ffs_stack_sysctl_get(st, id)));
	}

	Napi::Value SysctlSet(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		std::string name = info[0].As<Napi::String>().Utf8Value();
		int id = ffs_sysctl_find(name.c_str());
		if (id < 0)
			throw Napi::Error::New(info.Env(), "unknown sysctl " + name);
		int rc = ffs_stack_sysctl_set(st, id, info[1].As<Napi::Number>().Int64Value());
		if (rc < 0)
			throw Napi::RangeError::New(info.Env(), "sysctl " + name + " out of range");
		return info.Env().Undefined();
	}

	void SetRef(bool ref)
	{
		if (!driver_)
			return;
		auto apply = [ref](uv_handle_t *h) { ref ? uv_ref(h) : uv_unref(h); };
		if (starter_)
			apply(reinterpret_cast<uv_handle_t *>(&driver_->events));
		if (Turns()) {
			apply(reinterpret_cast<uv_handle_t *>(&driver_->idle));
			apply(reinterpret_cast<uv_handle_t *>(&driver_->timer));
			if (driver_->wake_open)
				apply(reinterpret_cast<uv_handle_t *>(&driver_->wake));
		}
	}

	Napi::Value Ref(const Napi::CallbackInfo &info) { SetRef(true); return info.Env().Undefined(); }
	Napi::Value Unref(const Napi::CallbackInfo &info) { SetRef(false); return info.Env().Undefined(); }
	Napi::Value Close(const Napi::CallbackInfo &info) { Stop(); return info.Env().Undefined(); }

	/** lcore(): the inline lcore this thread claimed, else its sockets' home lcore. */
	Napi::Value Lcore(const Napi::CallbackInfo &info)
	{
		ffs_stack *st = Live(info);
		int mine = ffs_stack_thread_lcore(st);
		return Napi::Number::New(info.Env(), mine >= 0 ? mine : ff_thread_home(-1));
	}

	ffs_stack *st_ = nullptr;
	bool starter_ = false;
	/** Turns every lcore no other thread claimed (ffs_stack_poll), not only its own. */
	bool turns_unclaimed_ = false;
	int lcore_ = -1;
	Driver *driver_ = nullptr;
	Napi::FunctionReference on_ping_;
	Napi::FunctionReference on_wake_;
	/** The wake-up callback's async context: it runs as a libuv callback of Node's own does. */
	std::unique_ptr<Napi::AsyncContext> wake_ctx_;
};

class FfnetAddon : public Napi::Addon<FfnetAddon> {
public:
	FfnetAddon(Napi::Env env, Napi::Object exports)
	{
		stack_ctor_ = Napi::Persistent(StackWrap::Define(env));
		DefineAddon(exports, {
					     InstanceMethod<&FfnetAddon::StartStack>("startStack"),
					     InstanceMethod<&FfnetAddon::AttachStack>("attachStack"),
					     InstanceMethod<&FfnetAddon::RunningConfig>("runningConfig"),
					     InstanceMethod<&FfnetAddon::CounterNames>("counterNames"),
					     InstanceMethod<&FfnetAddon::CounterDocs>("counterDocs"),
					     InstanceMethod<&FfnetAddon::SysctlTable>("sysctlTable"),
					     InstanceMethod<&FfnetAddon::EalCleanup>("ealCleanup"),
				     });
		RegisterPosix(env, exports);
		env.AddCleanupHook([this]() { CloseAll(); });
	}

private:
	void CloseAll()
	{
		std::set<StackWrap *> live;
		live.swap(live_);
		for (StackWrap *w : live) {
			w->registry = nullptr;
			w->Stop();
		}
	}

	Napi::Value StartStack(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!info[0].IsObject() || !info[1].IsFunction())
			throw Napi::TypeError::New(env, "startStack(config, onPingReply)");
		Napi::Object cfg = info[0].As<Napi::Object>();
		char err[512] = "";

		// EAL argv (strings must outlive rte_eal_init only; the EAL copies what it keeps).
		Napi::Array eal = cfg.Get("eal").As<Napi::Array>();
		std::vector<std::string> args;
		for (uint32_t i = 0; i < eal.Length(); i++)
			args.push_back(eal.Get(i).As<Napi::String>().Utf8Value());
		std::vector<char *> argv;
		for (auto &a : args)
			argv.push_back(a.data());
		// DPDK's log goes to the configured sink and is kept, so a failure below can quote it.
		Napi::Value sink = cfg.Get("log");
		if (ffs_log_open(sink.IsString() ? sink.As<Napi::String>().Utf8Value().c_str() : nullptr, err, sizeof(err)) != 0)
			throw Napi::Error::New(env, err);
		uint64_t log_mark = ffs_log_count();
		if (ffs_eal_init(static_cast<int>(argv.size()), argv.data(), err, sizeof(err)) != 0)
			throw StartError(env, err, log_mark);

		ffs_conf conf;
		ffs_conf_init(&conf);
		Napi::Array lcores = cfg.Get("dataLcores").As<Napi::Array>();
		if (lcores.Length() > FFS_MAX_LCORES)
			throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_LCORES) + " data-path lcores");
		conf.n_data_lcores = lcores.Length();
		for (unsigned i = 0; i < conf.n_data_lcores; i++)
			conf.data_lcores[i] = lcores.Get(i).As<Napi::Number>().Uint32Value();
		Napi::Value inline_lcores = cfg.Get("inlineLcores");
		if (!inline_lcores.IsUndefined()) {
			conf.n_inline_lcores = GetU32(cfg, "inlineLcores");
			if (conf.n_inline_lcores > FFS_MAX_LCORES)
				throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_LCORES) + " inline lcores");
		}
		Napi::Value config_json = cfg.Get("configJson");
		conf.idle_sleep_us = GetU32(cfg, "idleSleepUs");
		conf.tx_delay_us = GetU32(cfg, "txDelayUs");
		conf.nb_mbuf = GetU32(cfg, "mbufs");
		Napi::Value proc_type = cfg.Get("procType");
		if (proc_type.IsString()) {
			std::string t = proc_type.As<Napi::String>().Utf8Value();
			conf.proc_type = t == "secondary" ? FFS_PROC_SECONDARY : t == "auto" ? FFS_PROC_AUTO : FFS_PROC_PRIMARY;
		}
		if (cfg.Get("nbProcs").IsNumber())
			conf.nb_procs = GetU32(cfg, "nbProcs");
		if (cfg.Get("procQueue").IsNumber())
			conf.proc_queue = cfg.Get("procQueue").As<Napi::Number>().Int32Value();

		Napi::Array ports = cfg.Get("ports").As<Napi::Array>();
		if (ports.Length() > FFS_MAX_PORTS)
			throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_PORTS) + " ports");
		conf.n_ports = ports.Length();
		for (unsigned i = 0; i < conf.n_ports; i++) {
			Napi::Object p = ports.Get(i).As<Napi::Object>();
			ffs_port_conf &pc = conf.ports[i];
			pc.port_id = static_cast<uint16_t>(GetU32(p, "portId"));
			pc.addr = ParseIpv4(env, p.Get("addr"), "addr");
			pc.netmask = ParseIpv4(env, p.Get("netmask"), "netmask");
			pc.broadcast = ParseIpv4(env, p.Get("broadcast"), "broadcast");
			Napi::Value gw = p.Get("gateway");
			pc.gateway = gw.IsString() && gw.As<Napi::String>().Utf8Value().size() ? ParseIpv4(env, gw, "gateway") : 0;
			pc.mtu = static_cast<uint16_t>(GetU32(p, "mtu"));
			Napi::Value vid = p.Get("vlanId");
			if (!vid.IsUndefined() && (!vid.IsNumber() || vid.As<Napi::Number>().Uint32Value() > 4094))
				throw Napi::RangeError::New(env, "config.vlanId must be 0 (untagged) or a VLAN id 1..4094");
			pc.vlan_id = vid.IsUndefined() ? 0 : static_cast<uint16_t>(vid.As<Napi::Number>().Uint32Value());
			Napi::Value routes = p.Get("routes");
			if (routes.IsArray()) {
				Napi::Array ra = routes.As<Napi::Array>();
				if (ra.Length() > FFS_MAX_CONF_ROUTES)
					throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_CONF_ROUTES) + " static routes per port");
				pc.n_routes = ra.Length();
				for (unsigned k = 0; k < pc.n_routes; k++) {
					Napi::Object r = ra.Get(k).As<Napi::Object>();
					Napi::Value src = r.Get("src");
					pc.routes[k] = {};
					pc.routes[k].dest = ParseIpv4(env, r.Get("dest"), "routes.dest");
					pc.routes[k].prefixlen = static_cast<uint8_t>(GetU32(r, "prefixlen"));
					pc.routes[k].gateway = ParseIpv4(env, r.Get("via"), "routes.via");
					pc.routes[k].src = src.IsString() && src.As<Napi::String>().Utf8Value().size() ? ParseIpv4(env, src, "routes.src") : 0;
					pc.routes[k].metric = GetU32(r, "metric");
				}
			}
			Napi::Array st = p.Get("staticArp").As<Napi::Array>();
			if (st.Length() > FFS_MAX_STATIC_ARP)
				throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_STATIC_ARP) + " static neighbours per port");
			pc.n_static_arp = st.Length();
			for (unsigned k = 0; k < pc.n_static_arp; k++) {
				Napi::Object e = st.Get(k).As<Napi::Object>();
				pc.static_arp[k].addr = ParseIpv4(env, e.Get("addr"), "staticArp.addr");
				if (eth_addr_parse(e.Get("mac").As<Napi::String>().Utf8Value().c_str(), &pc.static_arp[k].mac) != 0)
					throw Napi::TypeError::New(env, "staticArp.mac must be a MAC address");
			}
			Napi::Value vips = p.Get("vipAddrs");
			Napi::Array vip = vips.IsArray() ? vips.As<Napi::Array>() : Napi::Array::New(env);
			if (vip.Length() > FFS_MAX_VIP)
				throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_VIP) + " vipAddrs per port");
			pc.n_vip = vip.Length();
			for (unsigned k = 0; k < pc.n_vip; k++) {
				std::string text = vip.Get(k).IsString() ? vip.Get(k).As<Napi::String>().Utf8Value() : std::string();
				size_t slash = text.find('/');
				uint32_t a;
				unsigned len = slash == std::string::npos ? 0 : static_cast<unsigned>(std::strtoul(text.c_str() + slash + 1, nullptr, 10));
				if (slash == std::string::npos || ipv4_parse(text.substr(0, slash).c_str(), &a) != 0 || len < 1 || len > 32)
					throw Napi::TypeError::New(env, "vipAddrs must hold IPv4 ADDR/PREFIXLEN strings");
				pc.vip[k] = ffs_ifaddr_of(a, len);
			}
			pc.ipv6_off = p.Get("ipv6").IsBoolean() && !p.Get("ipv6").As<Napi::Boolean>().Value();
			Napi::Value a6 = p.Get("addr6");
			Napi::Array addr6 = a6.IsArray() ? a6.As<Napi::Array>() : Napi::Array::New(env);
			if (addr6.Length() > FFS_MAX_CONF_ADDR6)
				throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_CONF_ADDR6) + " IPv6 addresses per port");
			pc.n_addr6 = addr6.Length();
			for (unsigned k = 0; k < pc.n_addr6; k++) {
				std::string text = addr6.Get(k).As<Napi::String>().Utf8Value();
				size_t slash = text.find('/');
				if (slash == std::string::npos || ip6_parse(text.substr(0, slash).c_str(), &pc.addr6[k].addr) != 0)
					throw Napi::TypeError::New(env, "addr6 must hold IPv6 ADDR/PREFIXLEN strings");
				pc.addr6[k].prefixlen = static_cast<uint8_t>(std::stoul(text.substr(slash + 1)));
			}
			Napi::Value gw6 = p.Get("gateway6");
			pc.gateway6 = IP6_ANY;
			if (gw6.IsString() && gw6.As<Napi::String>().Utf8Value().size() &&
			    ip6_parse(gw6.As<Napi::String>().Utf8Value().c_str(), &pc.gateway6) != 0)
				throw Napi::TypeError::New(env, "gateway6 must be an IPv6 address");
			Napi::Value nd = p.Get("staticNdp");
			Napi::Array ndp = nd.IsArray() ? nd.As<Napi::Array>() : Napi::Array::New(env);
			if (ndp.Length() > FFS_MAX_STATIC_NDP)
				throw Napi::RangeError::New(env, "at most " + std::to_string(FFS_MAX_STATIC_NDP) + " static IPv6 neighbours per port");
			pc.n_static_ndp = ndp.Length();
			for (unsigned k = 0; k < pc.n_static_ndp; k++) {
				Napi::Object e = ndp.Get(k).As<Napi::Object>();
				if (ip6_parse(e.Get("addr").As<Napi::String>().Utf8Value().c_str(), &pc.static_ndp[k].addr) != 0)
					throw Napi::TypeError::New(env, "staticNdp.addr must be an IPv6 address");
				if (eth_addr_parse(e.Get("mac").As<Napi::String>().Utf8Value().c_str(), &pc.static_ndp[k].mac) != 0)
					throw Napi::TypeError::New(env, "staticNdp.mac must be a MAC address");
			}
			ReadPortException(env, p, pc);
		}
		Napi::Object sysctl = cfg.Get("sysctl").As<Napi::Object>();
		Napi::Array names = sysctl.GetPropertyNames();
		for (uint32_t i = 0; i < names.Length(); i++) {
			std::string name = names.Get(i).As<Napi::String>().Utf8Value();
			int id = ffs_sysctl_find(name.c_str());
			if (id < 0)
				throw Napi::Error::New(env, "unknown sysctl " + name);
			conf.sysctl[id] = sysctl.Get(name).As<Napi::Number>().Int64Value();
		}
		// vdev arguments, so a stack restarted in this process can probe its devices again.
		std::vector<std::string> vdevs;
		for (auto &a : args) {
			if (a.rfind("--vdev=", 0) == 0)
				vdevs.push_back(a.substr(7));
		}
		for (size_t i = 0; i + 1 < args.size(); i++) {
			if (args[i] == "--vdev" || args[i] == "-a")
				vdevs.push_back(args[i + 1]);
		}
		Napi::Value program = cfg.Get("program");
		if (program.IsString())
			snprintf(conf.program, sizeof(conf.program), "%s", program.As<Napi::String>().Utf8Value().c_str());
		conf.n_vdevs = std::min<unsigned>(vdevs.size(), 16);
		for (unsigned i = 0; i < conf.n_vdevs; i++)
			conf.vdevs[i] = vdevs[i].c_str();

		Shared &g = shared();
		std::lock_guard<std::mutex> lock(g.mu);
		ffs_stack *st = ffs_stack_start(&conf, err, sizeof(err));
		if (!st)
			throw StartError(env, err, log_mark);
		g.handles = 1;
		g.config_json = config_json.IsString() ? config_json.As<Napi::String>().Utf8Value() : std::string();
		g.unclaimed_orphaned = false;
		ff_thread_home(-1); /* this thread's context first: its sockets' home is lcore 0 */
		Napi::Object obj = stack_ctor_.New({});
		StackWrap *w = StackWrap::Unwrap(obj);
		w->Attach(env, st, info[1].As<Napi::Function>(), true, -1);
		w->registry = &live_;
		live_.insert(w);
		return obj;
	}

	/**
	 * attachStack({ lcore? }, onPingReply): this thread's handle on the stack another thread (or an
	 * earlier handle of this one) started; null when none runs.
	 */
	Napi::Value AttachStack(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!info[0].IsObject() || !info[1].IsFunction())
			throw Napi::TypeError::New(env, "attachStack(options, onPingReply)");
		Napi::Value lv = info[0].As<Napi::Object>().Get("lcore");
		bool given = !lv.IsUndefined() && !lv.IsNull();
		if (given && !lv.IsNumber())
			throw Napi::TypeError::New(env, "options.lcore must be a number");
		int want = given ? lv.As<Napi::Number>().Int32Value() : -1;
		Shared &g = shared();
		std::lock_guard<std::mutex> lock(g.mu);
		ffs_stack *st = ffs_stack_current();
		if (!st || g.handles == 0)
			return env.Null();
		for (StackWrap *w : live_)
			if (w->IsOpen())
				throw Napi::Error::New(env, "this thread already has a handle on the stack (close it first)");
		unsigned n = ffs_stack_lcore_count(st);
		if (given && (want < 0 || static_cast<unsigned>(want) >= n))
			throw Napi::RangeError::New(env, "lcore " + std::to_string(want) + " is out of range (the stack has " + std::to_string(n) +
								 " lcores)");
		int lcore = -1;
		if (ffs_stack_is_inline(st)) {
			lcore = ff_set_lcore(want);
			if (lcore < 0 && errno == EBUSY)
				throw CodedError(env,
						 given ? "lcore " + std::to_string(want) + " is turned by another thread"
						       : "every inline lcore is turned by a thread already (the stack has " + std::to_string(n) + ")",
						 "ERR_FFNET_LCORE_BUSY");
			if (lcore < 0)
				throw AttachError(env);
		} else if (ff_thread_home(want) < 0) {
			throw AttachError(env);
		}
		g.handles++;
		Napi::Object obj = stack_ctor_.New({});
		StackWrap *w = StackWrap::Unwrap(obj);
		w->Attach(env, st, info[1].As<Napi::Function>(), false, lcore);
		w->registry = &live_;
		live_.insert(w);
		return obj;
	}

	/** runningConfig(): the configJson the running stack was started with, or null when none runs. */
	Napi::Value RunningConfig(const Napi::CallbackInfo &info)
	{
		Shared &g = shared();
		std::lock_guard<std::mutex> lock(g.mu);
		if (g.handles == 0 || !ffs_stack_current())
			return info.Env().Null();
		return Napi::String::New(info.Env(), g.config_json);
	}

	Napi::Value CounterNames(const Napi::CallbackInfo &info)
	{
		Napi::Array out = Napi::Array::New(info.Env(), FFS_COUNTER_COUNT);
		for (unsigned i = 0; i < FFS_COUNTER_COUNT; i++)
			out.Set(i, ffs_counter_names[i]);
		return out;
	}

	Napi::Value CounterDocs(const Napi::CallbackInfo &info)
	{
		Napi::Object out = Napi::Object::New(info.Env());
		for (unsigned i = 0; i < FFS_COUNTER_COUNT; i++)
			out.Set(ffs_counter_names[i], ffs_counter_docs[i]);
		return out;
	}

	/** Stops every stack of this environment, then releases the EAL (process exit only). */
	Napi::Value EalCleanup(const Napi::CallbackInfo &info)
	{
		CloseAll();
		ffs_eal_cleanup();
		return info.Env().Undefined();
	}

	Napi::Value SysctlTable(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		Napi::Array out = Napi::Array::New(env, FFS_SYSCTL_COUNT);
		for (unsigned i = 0; i < FFS_SYSCTL_COUNT; i++) {
			Napi::Object o = Napi::Object::New(env);
			o.Set("name", ffs_sysctl_table[i].name);
			o.Set("default", static_cast<double>(ffs_sysctl_table[i].def));
			o.Set("min", static_cast<double>(ffs_sysctl_table[i].min));
			o.Set("max", static_cast<double>(ffs_sysctl_table[i].max));
			out.Set(i, o);
		}
		return out;
	}

	Napi::FunctionReference stack_ctor_;
	std::set<StackWrap *> live_;
};

NODE_API_ADDON(FfnetAddon)
