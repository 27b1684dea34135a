using System.Buffers;
using System.ComponentModel;
using System.Threading.Tasks.Sources;
using Granary.Runtime.Serialization;

namespace Granary.Runtime.Invocation;

/// <summary>Told by a request when it has finished running on an activation (before its caller is resumed).</summary>
public interface IGrainRequestCompletion
{
    /// <summary>The request's grain method has completed, successfully or not.</summary>
    void OnRequestCompleted(GrainRequest request);
}

/// <summary>Runs requests on the grains of this silo; the receiving side of a remote call uses it.</summary>
public interface ILocalGrainInvoker
{
    /// <summary>Runs <paramref name="request"/> on the local activation of <paramref name="target"/> (activating it if needed).</summary>
    ValueTask<TResult> InvokeLocalAsync<TResult>(GrainId target, GrainRequest<TResult> request);
}

/// <summary>
/// One call of one grain interface method: its descriptor, arguments and request context. Generated code derives one
/// sealed type per method. A request object carries exactly one call and is also that call's completion source.
/// </summary>
public abstract class GrainRequest
{
    /// <summary>Response status byte: the call succeeded and the result follows.</summary>
    public const byte ResponseSuccess = 0;
    /// <summary>Response status byte: the call failed; the exception's type name and message follow.</summary>
    public const byte ResponseError = 1;

    /// <summary>The called method.</summary>
    public abstract GrainMethodDescriptor Method { get; }

    /// <summary>The caller's <see cref="RequestContext"/> snapshot, copied in when the call is made.</summary>
    public RequestContextData? Context { get; set; }

    /// <summary>Runtime plumbing: <see cref="System.Diagnostics.Stopwatch"/> timestamp when the call started (0 when not measured).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public long StartTimestamp { get; set; }

    /// <summary>
    /// Runtime plumbing: <see cref="TimeProvider.GetTimestamp"/> value after which nobody waits for this call any more
    /// (0 = no expiry). An activation drops an expired request instead of running it.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public long ExpiresAtTimestamp { get; set; }

    /// <summary>Serializes the arguments (remote calls only).</summary>
    public abstract void WriteArguments(GrainWriter writer);

    /// <summary>Deserializes the arguments into this request (receiving side of remote calls).</summary>
    public abstract void ReadArguments(ref GrainReader reader);

    /// <summary>Calls the grain method with these arguments, boxing the result (used only when call filters run).</summary>
    public abstract ValueTask<object?> InvokeBoxedAsync(object grain);

    /// <summary>Calls the grain method on <paramref name="grain"/>, notifies <paramref name="completion"/>, then completes this request.</summary>
    public abstract void Run(object grain, IGrainRequestCompletion completion);

    /// <summary>Completes this request with a result produced outside <see cref="Run"/> (e.g. by call filters).</summary>
    public abstract void SetBoxedResult(object? result);

    /// <summary>Completes this request with an error without running it.</summary>
    public abstract void Fail(Exception exception);

    /// <summary>
    /// Completes this request from a serialized response produced by <see cref="InvokeAndWriteResponseAsync"/>.
    /// <paramref name="invoker"/> is the runtime that grain references in the result will call through.
    /// </summary>
    public abstract void CompleteFromResponse(ReadOnlySpan<byte> response, IGrainCallInvoker? invoker = null);

    /// <summary>Runs this request on a local grain and serializes the outcome (result, or exception type and message).</summary>
    public abstract ValueTask InvokeAndWriteResponseAsync(ILocalGrainInvoker local, GrainId target, IBufferWriter<byte> response);

    /// <summary>Serializes a failure response for a request that could not even be run.</summary>
    public static void WriteErrorResponse(IBufferWriter<byte> response, Exception exception)
    {
        var writer = new GrainWriter(response);
        writer.WriteByte(ResponseError);
        GrainExceptionCodec.Write(writer, exception);
    }

    /// <inheritdoc/>
    public override string ToString() => Method.ToString();
}

/// <summary>A request whose method produces <typeparamref name="TResult"/> (<see cref="NoResult"/> for void methods).</summary>
public abstract class GrainRequest<TResult> : GrainRequest, IValueTaskSource<TResult>
{
    private ManualResetValueTaskSourceCore<TResult> _completion = new() { RunContinuationsAsynchronously = true };
    private ValueTask<TResult> _pending;
    private IGrainRequestCompletion? _pendingCompletion;
    private Action? _onPendingCompleted;

    /// <summary>Calls the grain method directly (generated: a cast and a call; no reflection, no boxing).</summary>
    public abstract ValueTask<TResult> InvokeAsync(object grain);

    /// <summary>Serializes a result (remote calls only).</summary>
    public abstract void WriteResult(GrainWriter writer, TResult result);

    /// <summary>Deserializes a result (remote calls only).</summary>
    public abstract TResult ReadResult(ref GrainReader reader);

    /// <summary>The caller's view of this request's outcome.</summary>
    public ValueTask<TResult> AsValueTask() => new(this, _completion.Version);

    /// <summary>Completes the call successfully.</summary>
    public void SetResult(TResult result) => _completion.SetResult(result);

    /// <inheritdoc/>
    public override void Fail(Exception exception) => _completion.SetException(exception);

    /// <inheritdoc/>
    public override void SetBoxedResult(object? result) => _completion.SetResult(result is null ? default! : (TResult)result);

    /// <inheritdoc/>
    public override async ValueTask<object?> InvokeBoxedAsync(object grain) => await InvokeAsync(grain).ConfigureAwait(false);

    /// <inheritdoc/>
    public override void Run(object grain, IGrainRequestCompletion completion)
    {
        ValueTask<TResult> invocation;
        try
        {
            invocation = InvokeAsync(grain);
        }
        catch (Exception exception)
        {
            completion.OnRequestCompleted(this);
            _completion.SetException(exception);
            return;
        }

        if (invocation.IsCompleted)
        {
            Complete(invocation, completion);
            return;
        }

        _pending = invocation;
        _pendingCompletion = completion;
        invocation.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted ??= OnPendingCompleted);
    }

    private void OnPendingCompleted()
    {
        var invocation = _pending;
        var completion = _pendingCompletion!;
        _pending = default;
        _pendingCompletion = null;
        Complete(invocation, completion);
    }

    private void Complete(ValueTask<TResult> invocation, IGrainRequestCompletion completion)
    {
        TResult result;
        try
        {
            result = invocation.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            completion.OnRequestCompleted(this);
            _completion.SetException(exception);
            return;
        }
        completion.OnRequestCompleted(this);
        _completion.SetResult(result);
    }

    /// <inheritdoc/>
    public override void CompleteFromResponse(ReadOnlySpan<byte> response, IGrainCallInvoker? invoker = null)
    {
        Exception? error;
        TResult result = default!;
        try
        {
            var reader = new GrainReader(response) { Invoker = invoker };
            if (reader.ReadByte() == ResponseSuccess)
            {
                result = ReadResult(ref reader);
                error = null;
            }
            else
            {
                error = GrainExceptionCodec.Read(ref reader);
            }
        }
        catch (Exception exception)
        {
            error = new GrainSerializationException($"Could not read the response of {Method}: {exception.Message}", exception);
        }
        if (error is null) _completion.SetResult(result);
        else _completion.SetException(error);
    }

    /// <inheritdoc/>
    public override async ValueTask InvokeAndWriteResponseAsync(ILocalGrainInvoker local, GrainId target, IBufferWriter<byte> response)
    {
        TResult result;
        try
        {
            result = await local.InvokeLocalAsync(target, this).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            WriteErrorResponse(response, exception);
            return;
        }
        var writer = new GrainWriter(response);
        writer.WriteByte(ResponseSuccess);
        WriteResult(writer, result);
    }

    TResult IValueTaskSource<TResult>.GetResult(short token) => _completion.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<TResult>.GetStatus(short token) => _completion.GetStatus(token);
    void IValueTaskSource<TResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _completion.OnCompleted(continuation, state, token, flags);
}
