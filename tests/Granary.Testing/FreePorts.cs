using System.Net;
using System.Net.Sockets;

namespace Granary.Testing;

/// <summary>Ports that were free a moment ago on 127.0.0.1 (the OS picks them), for servers a test starts.</summary>
public static class FreePorts
{
    /// <summary><paramref name="count"/> different ports.</summary>
    public static int[] Take(int count)
    {
        // Hold every listener until all are chosen, so one call never answers the same port twice.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    /// <summary>One port nothing listens on right now.</summary>
    public static int One() => Take(1)[0];
}
