namespace Granary.Client;

/// <summary>A bounded, TTL-limited cache of whole read results, least recently used evicted first.</summary>
internal sealed class ReadCache(int capacity, TimeSpan ttl, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, OnlineFeaturesResult Value, DateTimeOffset Expires)>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, OnlineFeaturesResult Value, DateTimeOffset Expires)> _order = new();

    public int Count
    {
        get { lock (_gate) return _index.Count; }
    }

    public bool TryGet(string key, out OnlineFeaturesResult value)
    {
        lock (_gate)
        {
            if (_index.TryGetValue(key, out var node))
            {
                if (node.Value.Expires > clock.GetUtcNow())
                {
                    _order.Remove(node);
                    _order.AddFirst(node);
                    value = node.Value.Value;
                    return true;
                }
                _order.Remove(node);
                _index.Remove(key);
            }
            value = null!;
            return false;
        }
    }

    public void Set(string key, OnlineFeaturesResult value)
    {
        lock (_gate)
        {
            if (_index.Remove(key, out var old)) _order.Remove(old);
            _index[key] = _order.AddFirst((key, value, clock.GetUtcNow() + ttl));
            while (_index.Count > capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _index.Remove(last.Value.Key);
            }
        }
    }
}
