using System.Diagnostics;
using Granary.Runtime.Catalog;
using Granary.Runtime.Configuration;
using Granary.Runtime.Diagnostics;
using Granary.Runtime.Invocation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Runtime.Messaging;

/// <summary>
/// The one dispatch path of every grain call made on this silo: capture the request context, run outgoing filters,
/// ask the <see cref="IGrainCallRouter"/> for local or remote, and bound the wait with the response timeout.
/// Local calls pass arguments by reference (no serialization). Also the entry point for calls arriving from other silos.
/// </summary>
public sealed class GrainCallDispatcher : IGrainCallInvoker, ILocalGrainInvoker
{
    private readonly ActivationCatalog _catalog;
    private readonly IGrainCallRouter _router;
    private readonly TimeProvider _time;
    private readonly TimeSpan _responseTimeout;
    private readonly IOutgoingGrainCallFilter[] _outgoingFilters;
    private readonly RuntimeInstruments _instruments;
    private readonly ILogger _logger;

    /// <summary>Creates the dispatcher (the silo registers one).</summary>
    public GrainCallDispatcher(
        ActivationCatalog catalog,
        IGrainCallRouter router,
        TimeProvider time,
        IOptions<MessagingOptions> options,
        IEnumerable<IOutgoingGrainCallFilter> outgoingFilters,
        RuntimeInstruments instruments,
        ILogger<GrainCallDispatcher> logger)
    {
        _catalog = catalog;
        _router = router;
        _time = time;
        _responseTimeout = options.Value.ResponseTimeout;
        _outgoingFilters = [.. outgoingFilters];
        _instruments = instruments;
        _logger = logger;
    }

    /// <inheritdoc/>
    public ValueTask<TResult> InvokeAsync<TResult>(GrainReference target, GrainRequest<TResult> request)
    {
        request.Context = RequestContext.Export();
        if (_instruments.MeasureRequests) request.StartTimestamp = Stopwatch.GetTimestamp();
        if (_outgoingFilters.Length > 0) return InvokeWithFiltersAsync(target, request);
        return Route(target, request);
    }

    /// <inheritdoc/>
    public void InvokeOneWay(GrainReference target, GrainRequest request)
    {
        request.Context = RequestContext.Export();
        var remote = _router.SelectRemote(target.GrainId);
        if (remote is not null)
        {
            try
            {
                remote.SendOneWay(target.GrainId, request);
            }
            catch (Exception exception)
            {
                RuntimeLog.OneWayFailed(_logger, request.Method.ToString(), target.GrainId, exception);
            }
            return;
        }
        // Never inline: a one-way caller returns as soon as the call is queued.
        _catalog.Submit(target, target.GrainId, request, allowInline: false);
    }

    /// <inheritdoc/>
    public ValueTask<TResult> InvokeLocalAsync<TResult>(GrainId target, GrainRequest<TResult> request)
    {
        if (_instruments.MeasureRequests && request.StartTimestamp == 0) request.StartTimestamp = Stopwatch.GetTimestamp();
        return _catalog.InvokeAsync(null, target, request, allowInline: false);
    }

    internal ValueTask<TResult> Route<TResult>(GrainReference target, GrainRequest<TResult> request)
    {
        var remote = _router.SelectRemote(target.GrainId);
        var pending = remote is null
            ? _catalog.InvokeAsync(target, target.GrainId, request, allowInline: true)
            : remote.InvokeAsync(target.GrainId, request);
        if (pending.IsCompleted || (remote is not null && remote.AppliesResponseTimeout)) return pending;
        return WaitWithTimeoutAsync(pending, target.GrainId, request);
    }

    private async ValueTask<TResult> WaitWithTimeoutAsync<TResult>(ValueTask<TResult> pending, GrainId target, GrainRequest<TResult> request)
    {
        var timeout = request.Method.ResponseTimeout ?? _responseTimeout;
        request.ExpiresAtTimestamp = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        var response = pending.AsTask();
        try
        {
            return await response.WaitAsync(timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException) when (response.IsCompleted)
        {
            // The reply raced the timer and completed first (or the grain itself threw TimeoutException): the caller
            // gets the reply or the grain's own exception, never a bare timer exception without the call's details.
            return await response.ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _instruments.Timeouts.Add(1);
            RuntimeLog.CallTimedOut(_logger, request.Method.ToString(), target, timeout);
            // The late response is dropped: observe its failure so it is not reported as unobserved.
            _ = response.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new TimeoutException($"Response to {request.Method} on grain {target} did not arrive within {timeout}; the outcome is unknown (a late response is dropped).");
        }
    }

    private async ValueTask<TResult> InvokeWithFiltersAsync<TResult>(GrainReference target, GrainRequest<TResult> request)
    {
        var context = new OutgoingCallContext<TResult>(this, target, request, _outgoingFilters);
        await context.Invoke();
        return context.Result is null ? default! : (TResult)context.Result;
    }

    private sealed class OutgoingCallContext<TResult>(GrainCallDispatcher dispatcher, GrainReference target, GrainRequest<TResult> request, IOutgoingGrainCallFilter[] filters)
        : IOutgoingGrainCallContext
    {
        private int _next;

        public GrainId TargetId => target.GrainId;
        public GrainMethodDescriptor Method => request.Method;
        public GrainRequest Request => request;
        public object? Result { get; set; }

        public async Task Invoke()
        {
            var index = _next++;
            if (index < filters.Length)
            {
                await filters[index].Invoke(this);
                return;
            }
            // Filters may have changed the request context: send what is current now.
            request.Context = RequestContext.Export();
            Result = await dispatcher.Route(target, request);
        }
    }
}
