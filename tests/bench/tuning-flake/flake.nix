# Synthetic build graphs for tests/bench/tuning: no nixpkgs, builders are
# /bin/sh busy loops.  One unit of work is a shell loop of `scale` × 1000
# iterations (about 1 ms of one CPU with dash).  ./salt (rewritten before
# every build) is in every derivation, so each build starts from scratch.
{
  outputs = { self }:
    let
      system = "@SYSTEM@";
      scale = @SCALE@;
      salt = builtins.readFile ./salt;
      loop = n: ''i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done'';
      iters = units: toString (units * scale * 1000);
      drv = name: script: deps: derivation {
        inherit name system salt deps;
        builder = "/bin/sh";
        args = [ "-c" ''
          PATH=/usr/bin:/bin
          ${script}
          echo ${name} > $out
        '' ];
      };
      # single-threaded: `units` of work whatever NIX_BUILD_CORES says
      serial = name: units: deps: drv name (loop (iters units)) deps;
      # `units` of work split over $NIX_BUILD_CORES processes (0: all CPUs,
      # as nixpkgs' stdenv does), like make -j$NIX_BUILD_CORES
      parallel = name: units: deps: drv name ''
        c=''${NIX_BUILD_CORES:-0}; [ "$c" -gt 0 ] || c=$(nproc)
        n=$((${iters units} / c)); k=0
        while [ $k -lt $c ]; do (${loop "$n"}) & k=$((k+1)); done
        wait
      '' deps;
      range = n: builtins.genList (i: i) n;
      leaves = prefix: n: units:
        map (i: serial "${prefix}-${toString i}" units []) (range n);
    in {
      packages.${system} = {
        # many small single-threaded derivations
        serial = drv "serial-root" "" (leaves "s" 16 200);
        # a few that parallelise internally
        parallel = drv "parallel-root" ""
          (map (i: parallel "p-${toString i}" 1200 []) (range 3));
        # small leaves feeding two parallel builds, then a lone one
        mix = let
          a = parallel "m-a" 1000 (leaves "ma" 4 200);
          b = parallel "m-b" 1000 (leaves "mb" 4 200);
        in parallel "m-top" 1000 [ a b ];
      };
    };
}
