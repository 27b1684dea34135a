namespace Granary.Runtime.Catalog;

/// <summary>The local activations of one [StatelessWorker] grain id: reuses an idle one, grows up to the class's maximum.</summary>
internal sealed class StatelessWorkerPool(ActivationCatalog catalog, GrainClassInfo grainClass, GrainId grainId)
{
    private readonly object _lock = new();
    private ActivationData[] _workers = [];

    public GrainId GrainId { get; } = grainId;
    public IReadOnlyList<ActivationData> Workers => Volatile.Read(ref _workers);

    /// <summary>Hands <paramref name="request"/> to an idle worker, a new one, or the least loaded one.</summary>
    public void Submit(Invocation.GrainRequest request, bool allowInline)
    {
        while (true)
        {
            var workers = Volatile.Read(ref _workers);
            ActivationData? best = null;
            var bestLoad = int.MaxValue;
            foreach (var worker in workers)
            {
                var load = worker.Load;
                if (load < bestLoad && worker.IsValid)
                {
                    best = worker;
                    bestLoad = load;
                }
            }
            if ((best is null || bestLoad > 0) && workers.Length < grainClass.StatelessWorkerMax)
                best = TryAddWorker(workers) ?? best;
            if (best is not null && best.TrySubmit(request, allowInline)) return;
            if (best is not null) Remove(best);
        }
    }

    private ActivationData? TryAddWorker(ActivationData[] seen)
    {
        ActivationData worker;
        lock (_lock)
        {
            if (_workers != seen || _workers.Length >= grainClass.StatelessWorkerMax) return null;
            worker = new ActivationData(catalog, grainClass, GrainId, this);
            _workers = [.. _workers, worker];
        }
        worker.StartActivation();
        return worker;
    }

    public void Remove(ActivationData worker)
    {
        lock (_lock) _workers = [.. _workers.Where(w => w != worker)];
    }
}
