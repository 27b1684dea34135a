// The Granary silo. `dotnet Granary.Silo.dll --help` prints the options; docs/cluster.md explains the cluster.
return await Granary.Silo.SiloHost.RunAsync(args);
