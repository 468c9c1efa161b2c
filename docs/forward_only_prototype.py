"""Numpy prototype of forward-only (two-point SPSA) federated training of the caltech101 head, used to try
what might close the gap to backprop before building it (docs/forward-only.md, "What closes the gap").

Not the project's code and not bit-compatible with it: its own Dirichlet split and numpy random numbers, so
its figures compare variants with each other, not with `bin/fedlake simulate`. FedAvg over 20 sites, alpha
0.1, zero head, logits 10 W x + b on L2-normalised CLIP ViT-B/32 embeddings.

  python3 docs/forward_only_prototype.py --mode bp --rounds 8                 # backprop sites
  python3 docs/forward_only_prototype.py --k 64 --rounds 8                    # perturbations R B^T, B: 64 PCA
                                                                              # directions of imagenet train_X
  python3 docs/forward_only_prototype.py --k 64 --cand 10 --rounds 8          # each step keeps the 10 of 100
                                                                              # directions with the largest |g|
  python3 docs/forward_only_prototype.py --k 512 --power -1 --cap 10 ...      # PCA directions scaled by
                                                                              # (sigma_j / sigma_0)^power
  python3 docs/forward_only_prototype.py --steps 40 --cand 10 --rounds 8      # the full 51,300 parameters:
                                                                              # keep 10 of 100 a step
--cand M: each step evaluates M x --dirs candidates and keeps the --dirs of largest |g|. The +-1 entries come
from random bits (np.unpackbits), one product of the batch with all candidates; the figures before this
change (docs/forward-only.md, "What closes the gap") drew them as integers, a different random stream.
Set OPENBLAS_NUM_THREADS=1 on a shared machine. Data: --data (default ../shared/data/clip-vitb32-dev).
"""
import numpy as np, sys, time, argparse
ap=argparse.ArgumentParser()
ap.add_argument('--seed',type=int,default=3)
ap.add_argument('--data',default='../shared/data/clip-vitb32-dev')
ap.add_argument('--rounds',type=int,default=30)
ap.add_argument('--mode',default='fo')   # fo | bp
ap.add_argument('--k',type=int,default=0) # 0 = full dim
ap.add_argument('--basis',default='pca')  # pca (imagenet) | model
ap.add_argument('--steps',type=int,default=50)
ap.add_argument('--dirs',type=int,default=10)
ap.add_argument('--lr',type=float,default=0.05)
ap.add_argument('--eps',type=float,default=1e-3)
ap.add_argument('--bs',type=int,default=32)
ap.add_argument('--every',type=int,default=5)
ap.add_argument('--half',type=int,default=0)  # half sites bp
ap.add_argument('--nobias',type=int,default=0)
ap.add_argument('--power',type=float,default=0)
ap.add_argument('--cap',type=float,default=1e9)
ap.add_argument('--cand',type=int,default=1)
a=ap.parse_args()
D=a.data.rstrip('/')+'/'
X=np.load(D+'caltech101/train_X.npy').astype(np.float32); y=np.load(D+'caltech101/train_y.npy')
Xt=np.load(D+'caltech101/test_X.npy').astype(np.float32); yt=np.load(D+'caltech101/test_y.npy')
X/=np.linalg.norm(X,axis=1,keepdims=True); Xt/=np.linalg.norm(Xt,axis=1,keepdims=True)
C=100; d=512; S=20; SCALE=10.0
rng=np.random.default_rng(a.seed)
# dirichlet split
idx=[[] for _ in range(S)]
for c in range(C):
    rows=np.where(y==c)[0]; rng.shuffle(rows)
    p=rng.dirichlet([0.1]*S); cuts=(np.cumsum(p)*len(rows)).astype(int)[:-1]
    for s,part in enumerate(np.split(rows,cuts)): idx[s]+=list(part)
sites=[(X[np.array(i,dtype=int)],y[np.array(i,dtype=int)]) for i in idx]
if a.k>0:
    if a.basis=='pca':
        I=np.load(D+'imagenet/train_X.npy').astype(np.float32)
        I/=np.linalg.norm(I,axis=1,keepdims=True)
        I=I-I.mean(0)  # centre
        _,_,Vt=np.linalg.svd(I,full_matrices=False)
        B=Vt[:a.k].T.astype(np.float32)  # d x k orthonormal
        # also include the mean direction
        mu=np.load(D+'imagenet/train_X.npy').astype(np.float32); mu/=np.linalg.norm(mu,axis=1,keepdims=True); mu=mu.mean(0)
        B=np.concatenate([mu[:,None]/np.linalg.norm(mu),B[:,:a.k-1]],1)
        B,_=np.linalg.qr(B)
        if a.power:
            sv=np.linalg.norm((I)@B,axis=0); sc=(sv/sv.max())**a.power; sc=np.minimum(sc, a.cap*sc.min() if a.power>0 else a.cap); B=B*sc
            B=B/np.sqrt((B**2).sum()/a.k)
    elif a.basis=='text':
        T=np.load(D+'imagenet/text_X.npy').astype(np.float32)
        T/=np.linalg.norm(T,axis=1,keepdims=True)
        _,_,Vt=np.linalg.svd(T,full_matrices=False); B=Vt[:a.k].T.astype(np.float32)
    elif a.basis=='random':
        B,_=np.linalg.qr(rng.standard_normal((d,a.k)).astype(np.float32))
else:
    B=None
def loss_acc(W,b,X,y):
    L=SCALE*X@W.T+b; L-=L.max(1,keepdims=True); P=np.exp(L); P/=P.sum(1,keepdims=True)
    return -np.mean(np.log(P[np.arange(len(y)),y]+1e-30)), np.mean(L.argmax(1)==y)
def ce(L,yb):
    L=L-L.max(-1,keepdims=True); return np.mean(np.log(np.exp(L).sum(-1))-np.take_along_axis(L,yb[...,None] if L.ndim==2 else np.broadcast_to(yb[None,:,None],L.shape[:2]+(1,)),-1)[...,0],-1)
def bp(W,b,Xs,ys,r):
    W=W.copy(); b=b.copy(); n=len(ys); steps=0
    for e in range(5):
        o=r.permutation(n)
        for i in range(0,n,16):
            j=o[i:i+16]; xb=Xs[j]; yb=ys[j]
            L=SCALE*xb@W.T+b; L-=L.max(1,keepdims=True); P=np.exp(L); P/=P.sum(1,keepdims=True)
            P[np.arange(len(j)),yb]-=1; P/=len(j)
            W-=0.3*SCALE*P.T@xb; b-=0.3*P.sum(0); steps+=1
    return W,b
def fo(W,b,Xs,ys,r):
    W=W.copy(); b=b.copy(); n=len(ys); bs=min(a.bs,n)
    XB = Xs@B if B is not None else Xs
    kk = XB.shape[1]
    o=r.permutation(n); cur=0
    for t in range(a.steps):
        if cur+bs>n: o=r.permutation(n); cur=0
        j=o[cur:cur+bs]; cur+=bs
        xb=XB[j]; yb=ys[j]
        Wk = W@B if B is not None else W
        base=SCALE*xb@Wk.T+b  # bs x C
        ND=a.dirs*a.cand
        # +-1 from random bits (much cheaper than one integer draw per entry on the full 51,300)
        bits=np.unpackbits(r.integers(0,256,size=(ND*C*(kk+1)+7)//8,dtype=np.uint8))[:ND*C*(kk+1)]
        Zall=(1.0-2.0*bits.astype(np.float32)).reshape(ND,C,kk+1)
        Rz=Zall[:,:,:kk]; zb=Zall[:,:,kk].copy()
        if a.nobias: zb*=0
        # X (W + eps Z) = X W + eps X Z: one product of the batch with all candidates
        along=SCALE*(Rz.reshape(ND*C,kk)@xb.T).reshape(ND,C,-1).transpose(0,2,1)+zb[:,None,:]
        lp=ce(base[None]+a.eps*along,yb); lm=ce(base[None]-a.eps*along,yb)
        g=(lp-lm)/(2*a.eps)
        if a.cand>1:
            keep=np.argsort(-np.abs(g))[:a.dirs]; g=g[keep]; Rz=Rz[keep]; zb=zb[keep]
        coef=a.lr*g/a.dirs
        dW=np.einsum('d,dck->ck',coef,Rz)
        W-= dW@B.T if B is not None else dW
        b-= coef@zb
    return W,b
W=np.zeros((C,d),np.float32); b=np.zeros(C,np.float32)
t0=time.time(); curve=[]
for rd in range(1,a.rounds+1):
    Ws=[];bs_=[];ns=[]
    for s,(Xs,ys) in enumerate(sites):
        r=np.random.default_rng(a.seed*1000003+rd*10007+s)
        if a.mode=='bp' or (a.half and s%2==0): w2,b2=bp(W,b,Xs,ys,r)
        else: w2,b2=fo(W,b,Xs,ys,r)
        Ws.append(w2);bs_.append(b2);ns.append(len(ys))
    ns=np.array(ns,np.float32)/sum(ns)
    W=sum(n*w for n,w in zip(ns,Ws)).astype(np.float32); b=sum(n*w for n,w in zip(ns,bs_)).astype(np.float32)
    if rd%a.every==0 or rd==a.rounds or rd==8:
        l,acc=loss_acc(W,b,Xt,yt); curve.append(f'{rd}:{acc:.3f}')
print(vars(a),' '.join(curve),f'{time.time()-t0:.0f}s',flush=True)
