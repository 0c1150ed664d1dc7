/*
 * Zero-copy receive for ffnet/dgram: the packet pool's memory as one external ArrayBuffer per
 * thread, and a ZcReceiver that lends a socket's datagrams in place (posix/ff_dgram.h,
 * ff_dgram_lend) and gives them back in one bulk release.
 *
 * Contract: JS makes one ZcReceiver per thread's handle on the stack. `pool` is null when the pool
 * spans several memory chunks or the runtime refuses external buffers: the caller then copies
 * (dgramRecv). recv() lends up to `max` datagrams, described as dgramRecv describes them (offset
 * into `pool`, or into `scratch` with FF_DGRAM_COPIED in the port word for a datagram in several
 * segments), and holds them until release(); a second recv() first releases what the first lent.
 * close() releases and detaches the pool buffer, so a view kept past the stack's life reads nothing
 * (byteLength 0) rather than freed memory: call it before the stack stops. An environment that ends
 * with a batch lent (a worker terminated inside a listener) gives it back from a cleanup hook.
 */
#include <napi.h>

#include <cerrno>
#include <vector>

extern "C" {
#include "posix/ff_dgram.h"
}

namespace {

class ZcReceiver : public Napi::ObjectWrap<ZcReceiver> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "ZcReceiver",
				   {
					   InstanceAccessor<&ZcReceiver::Pool>("pool"),
					   InstanceMethod<&ZcReceiver::Recv>("recv"),
					   InstanceMethod<&ZcReceiver::Release>("release"),
					   InstanceMethod<&ZcReceiver::Close>("close"),
				   });
	}

	ZcReceiver(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ZcReceiver>(info), env_(info.Env())
	{
		/* A worker terminated inside a listener never reaches the release in its `finally`: the lent
		 * batch goes back when its environment ends, before the stack handle's own cleanup (hooks run
		 * newest first) detaches the thread or stops the stack. */
		napi_add_env_cleanup_hook(env_, CleanupThunk, this);
		const void *base = nullptr;
		size_t len = 0;
		if (ff_dgram_pool_span(&base, &len) != 0 || len > UINT32_MAX)
			return;
		napi_value ab;
		/* The memory is the stack's: nothing to free when the buffer is collected. */
		if (napi_create_external_arraybuffer(info.Env(), const_cast<void *>(base), len, nullptr, nullptr, &ab) != napi_ok) {
			/* Runtimes that forbid external buffers (napi_no_external_buffers_allowed): copy instead. */
			napi_value pending;
			napi_get_and_clear_last_exception(info.Env(), &pending);
			return;
		}
		base_ = static_cast<const uint8_t *>(base);
		span_ = len;
		pool_ = Napi::Persistent(Napi::ArrayBuffer(info.Env(), ab));
	}

	~ZcReceiver() override
	{
		napi_remove_env_cleanup_hook(env_, CleanupThunk, this);
	}

private:
	static void CleanupThunk(void *self) { static_cast<ZcReceiver *>(self)->ReleaseLent(); }

	Napi::Value Pool(const Napi::CallbackInfo &info)
	{
		return pool_.IsEmpty() ? info.Env().Null() : pool_.Value();
	}

	/** recv(fd, max, desc: Uint32Array, scratch: Uint8Array, info?: Uint32Array) → datagrams lent, or
	 *  -errno; info (6 words per datagram, struct ff_dgram_info) gets where each arrived. */
	Napi::Value Recv(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		ReleaseLent();
		if (pool_.IsEmpty())
			return Napi::Number::New(env, -ENOTSUP);
		int fd = info[0].As<Napi::Number>().Int32Value();
		if (ff_sock_foreign(fd))
			return Napi::Number::New(env, -EBADF); /* another thread's socket: never lend its datagrams here */
		unsigned max = info[1].As<Napi::Number>().Uint32Value();
		Napi::Uint32Array desc = info[2].As<Napi::Uint32Array>();
		Napi::Uint8Array scratch = info[3].As<Napi::Uint8Array>();
		if (static_cast<size_t>(max) * 4 > desc.ElementLength())
			return Napi::Number::New(env, -EINVAL);
		ff_dgram_info *where = nullptr;
		if (info.Length() > 4 && info[4].IsTypedArray()) {
			Napi::Uint32Array words = info[4].As<Napi::Uint32Array>();
			if (static_cast<size_t>(max) * 6 > words.ElementLength())
				return Napi::Number::New(env, -EINVAL);
			where = reinterpret_cast<ff_dgram_info *>(words.Data());
		}
		if (lent_.size() < max)
			lent_.resize(max);
		int n = ff_dgram_lend(fd, base_, span_, scratch.Data(), scratch.ByteLength(), max,
				      reinterpret_cast<ff_dgram_desc *>(desc.Data()), lent_.data(), &loan_);
		n_lent_ = n > 0 ? static_cast<unsigned>(n) : 0;
		if (where)
			ff_dgram_lent_info(lent_.data(), n_lent_, where);
		return Napi::Number::New(env, n);
	}

	/** release(): gives back what the last recv() lent. */
	Napi::Value Release(const Napi::CallbackInfo &info)
	{
		ReleaseLent();
		return info.Env().Undefined();
	}

	/** close(): release(), then detaches the pool buffer (every view of it reads as empty). */
	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		ReleaseLent();
		if (!pool_.IsEmpty()) {
			Napi::ArrayBuffer ab = pool_.Value();
			if (!ab.IsDetached())
				ab.Detach();
			pool_.Reset();
		}
		return info.Env().Undefined();
	}

	void ReleaseLent()
	{
		if (n_lent_) {
			ff_dgram_return(&loan_, lent_.data(), n_lent_);
			n_lent_ = 0;
		}
	}

	napi_env env_;
	const uint8_t *base_ = nullptr;
	size_t span_ = 0;
	Napi::Reference<Napi::ArrayBuffer> pool_;
	std::vector<void *> lent_;
	unsigned n_lent_ = 0;
	ff_dgram_loan loan_{};
};

}  // namespace

/** Adds the ZcReceiver class to the ff_* bindings. */
void RegisterZc(Napi::Env env, Napi::Object posix)
{
	posix.Set("ZcReceiver", ZcReceiver::Define(env));
}
