using Granary.Runtime.Configuration;
using Granary.Runtime.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Runtime.Catalog;

/// <summary>Every <see cref="GrainCollectionOptions.CollectionQuantum"/>, deactivates activations idle for the collection age.</summary>
internal sealed class ActivationCollector(ActivationCatalog catalog, TimeProvider time, IOptions<GrainCollectionOptions> options, ILogger<ActivationCollector> logger) : IDisposable
{
    private ITimer? _timer;

    public void Start()
    {
        var quantum = options.Value.CollectionQuantum;
        _timer = time.CreateTimer(static state => ((ActivationCollector)state!).Scan(), this, quantum, quantum);
    }

    private void Scan()
    {
        var collected = catalog.CollectIdle();
        if (collected > 0) RuntimeLog.Collected(logger, collected);
    }

    public void Dispose() => _timer?.Dispose();
}
