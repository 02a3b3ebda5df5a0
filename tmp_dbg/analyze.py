import json,sys,glob,collections
f=glob.glob('*.cpuprofile')[0]
p=json.load(open(f))
nodes={n['id']:n for n in p['nodes']}
self_t=collections.Counter()
samples=p['samples']; deltas=p['timeDeltas']
for s,d in zip(samples,deltas):
    n=nodes[s]; cf=n['callFrame']
    key=f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']}"
    self_t[key]+=d
tot=sum(self_t.values())
for k,v in self_t.most_common(40): print(f"{v/tot*100:5.1f}% {k}")
