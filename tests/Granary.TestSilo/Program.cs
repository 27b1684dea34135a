// The Granary silo plus the diagnostics grains, for tests and benchmarks only; same options as Granary.Silo (--help).
return await Granary.Silo.SiloHost.RunAsync(args);
